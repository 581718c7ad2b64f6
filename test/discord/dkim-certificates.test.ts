// DKIM keys, certificates and the deliverability report from Discord, end to end: /mail check, dkim-show,
// dkim-rotate, cert-renew and cert-status through the real discord.js client and the emulator, against the lab's
// chasquid, its Knot (records published with RFC 2136) and pebble. What the bot says is checked against what the
// real servers show: the records Knot answers, the signature mailauth verifies, the certificate chasquid serves.

import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dkimVerify } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colours } from '../../src/bot/render.ts';
import { DnsResolver } from '../../src/dns/caching-resolver.ts';
import { presentTxtRecord } from '../../src/dns/txt.ts';
import { operationContext } from '../../src/ops/context.ts';
import { sendProbe } from '../../src/probe/probe.ts';
import { runCli } from '../cli.ts';
import { dkimKey } from '../lab/check-zones.ts';
import { servedEverywhere } from '../lab/served-chain.ts';
import { knotTxt, publishByHand } from './dns-by-hand.ts';
import { buttonIds, type InteractionRecord } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import { isEphemeral } from './payloads.ts';

interface Embed {
  title: string;
  description?: string;
  color: number;
  fields: Array<{ name: string; value: string }>;
  footer?: { text: string };
}

const domain = 'example.test';
const oldKey = dkimKey();
const oldRecordName = `old._domainkey.${domain}`;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ lab: { dns: true, acme: true, dkimKeys: [{ domain, selector: 'old', privateKeyPem: oldKey.privateKeyPem }] } });
  await publishByHand(h.lab, domain, presentTxtRecord({ name: oldRecordName, value: oldKey.record, ttl: 3600 }));
});

afterAll(async () => {
  await h?.stop();
});

const embedOf = (record: InteractionRecord) => record.original?.embeds[0] as Embed;
const field = (embed: Embed, name: string) => embed.fields.find((item) => item.name === name)?.value;
/** The progress lines the bot showed while it worked, in order. */
const progressLines = (record: InteractionRecord, token = record.token) =>
  h.emulator.requests
    .filter((request) => request.method === 'PATCH' && request.path.includes(`/${token}/messages/@original`))
    .map((request) => (request.body as { content?: string }).content ?? '')
    .filter((content) => content.startsWith('⏳'));
/** The TXT value inside a zone-file line shown in a code block. */
const recordIn = (text: string) =>
  (/```\n\S+ \d+ IN TXT ((?:"[^"]*" ?)+)\n```/.exec(text)?.[1] ?? '')
    .match(/"[^"]*"/g)
    ?.map((part) => part.slice(1, -1))
    .join('') ?? '';
const discordDate = (date: Date) => `<t:${Math.floor(date.getTime() / 1000)}:f>`;
const keyFiles = () =>
  readdirSync(path.join(h.lab.chasquidDir, 'domains', domain))
    .filter((name) => name.startsWith('dkim:'))
    .sort();
const installedCertificate = () =>
  new X509Certificate(readFileSync(path.join(h.lab.chasquidDir, 'certs', h.lab.hostname, 'fullchain.pem')));

describe('/mail check', () => {
  it('shows the report as an embed coloured by the worst status, failures first, each failure and warning with its fix', async () => {
    const cli = JSON.parse((await runCli(['check', domain, '--json', '--env-file', h.lab.envFile])).stdout) as {
      checks: Array<{ id: string; status: string; port?: number; fix?: string; temperror?: boolean }>;
    };
    const record = await h.finished(h.emulator.command(h.viewer, 'check', { domain }), 30_000);
    expect(isEphemeral(record.original?.flags)).toBe(false);
    expect(progressLines(record)[0]).toBe('⏳ Running the checks (DNS, TLS, blocklists, and a test message through the host)…');

    const embed = embedOf(record);
    // The lab's certificate is self-signed: the TLS checks fail.
    expect(cli.checks.filter((check) => check.status === 'fail').map((check) => check.id)).toContain('tls');
    expect(embed.color).toBe(colours.fail);
    // A check that could not be completed (the lab serves no blocklists: none answers) is unknown, not failed.
    const failed = cli.checks.filter((check) => check.status === 'fail' && !check.temperror).length;
    const unknown = cli.checks.filter((check) => check.temperror).length;
    expect(embed.title).toMatch(
      new RegExp(`^❌ example\\.test: ${failed} failed, ${unknown > 0 ? `${unknown} unknown, ` : ''}\\d+ warnings?$`)
    );

    const marks: Record<string, string> = { fail: '❌', warn: '⚠️', pass: '✅', skip: '➖' };
    const mark = (check: { status: string; temperror?: boolean }) => (check.temperror ? '⏳' : marks[check.status]);
    const rank = Object.keys(marks);
    const statusOf = (name: string) =>
      cli.checks.find((check) => `${mark(check)} ${check.id}${check.port === undefined ? '' : ` ${check.port}`}` === name)
        ?.status as string;
    const shown = embed.fields.map((item) => statusOf(item.name));
    expect(shown).toEqual([...shown].sort((a, b) => rank.indexOf(a) - rank.indexOf(b)));
    expect(embed.fields.map((item) => item.name).sort()).toEqual(
      cli.checks.map((check) => `${mark(check)} ${check.id}${check.port === undefined ? '' : ` ${check.port}`}`).sort()
    );
    for (const check of cli.checks.filter((item) => item.status === 'fail' || item.status === 'warn')) {
      const value = field(embed, `${mark(check)} ${check.id}${check.port === undefined ? '' : ` ${check.port}`}`) ?? '';
      expect(value, check.id).toContain(`\`\`\`\n${(check.fix ?? '').slice(0, 60)}`);
    }
  });
});

describe('/mail dkim-show', () => {
  it('lists the key on the host with the record Knot publishes for it', async () => {
    const record = await h.finished(h.emulator.command(h.viewer, 'dkim-show', { domain }));
    const embed = embedOf(record);
    expect(embed.title).toBe(`DKIM keys of ${domain}`);
    expect(embed.color).toBe(colours.ok);
    expect(embed.fields.map((item) => item.name)).toEqual(['✅ old (active)']);
    const value = embed.fields[0]?.value ?? '';
    expect(value).toContain('Published: yes, at every authoritative name server');
    expect(recordIn(value)).toBe(await knotTxt(h.lab, domain, oldRecordName));
    expect(embed.footer?.text).toContain('built-in signing');
  });

  it('says when a domain has no key, and how to make one', async () => {
    const embed = embedOf(await h.finished(h.emulator.command(h.admin, 'dkim-show', { domain: 'example.org' })));
    expect(embed).toMatchObject({
      color: colours.warn,
      description: 'example.org has no DKIM key. Create one with `/mail dkim-rotate domain:example.org`.',
    });
  });
});

describe('changes refused to a viewer', () => {
  it('/mail dkim-rotate and /mail cert-renew change nothing for a viewer', async () => {
    const zone = await h.lab.knotc('zone-read', domain);
    const certificate = installedCertificate().fingerprint256;
    for (const [name, options] of [
      ['dkim-rotate', { domain }],
      ['cert-renew', { force: true }],
    ] as const) {
      const record = await h.finished(h.emulator.command(h.viewer, name, options));
      expect(isEphemeral(record.callback?.data?.flags)).toBe(true);
      expect(record.text).toContain(`/mail ${name} changes the mail server and needs a mailops admin role`);
    }
    expect(await h.lab.knotc('zone-read', domain)).toBe(zone);
    expect(keyFiles()).toEqual(['dkim:old.pem']);
    expect(installedCertificate().fingerprint256).toBe(certificate);
  });
});

describe('/mail dkim-rotate', () => {
  let selector = '';

  it('asks first; on Confirm publishes at Knot, activates, verifies, and shows the new key with progress on the way', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'dkim-rotate', { domain }));
    expect(record.text).toContain(`Rotate the DKIM key of \`${domain}\` (rsa2048)? The old key stays published for the grace period.`);
    expect(keyFiles()).toEqual(['dkim:old.pem']);
    const press = await h.finished(h.emulator.press(h.admin, record.original, buttonIds(record.original)[0] as string), 30_000);
    await h.finished(record, 30_000);

    const embed = embedOf(record);
    selector = /^New DKIM key for example\.test: (\d{8})$/.exec(embed.title)?.[1] ?? '';
    expect(selector).toBe(new Date().toISOString().slice(0, 10).replaceAll('-', ''));
    expect(embed.color).toBe(colours.ok);
    expect(field(embed, 'Selector')).toBe(`${selector} (rsa2048)`);
    expect(field(embed, 'Published')).toBe('yes, at every authoritative name server');
    expect(field(embed, 'Active')).toBe('yes, chasquid signs with it');
    expect(field(embed, 'Verified')).toContain(`s=${selector} pass`);
    expect(field(embed, 'Old keys')).toMatch(/^old: stays published and signing until <t:\d+:f>, then `dkim-retire` removes it$/);

    // What the real servers show: Knot publishes the key shown, chasquid has it, and a new message verifies with it.
    const published = await knotTxt(h.lab, domain, `${selector}._domainkey.${domain}`);
    expect(published).toMatch(/^v=DKIM1; k=rsa; p=/);
    expect(recordIn(field(embed, 'Record') ?? '')).toBe(published);
    expect(keyFiles()).toEqual([`dkim:${selector}.pem`, 'dkim:old.pem']);
    const message = (await sendProbe(operationContext(h.runtime, 'test'), domain)).raw;
    const verified = await dkimVerify(message, {
      resolver: new DnsResolver({ server: { host: '127.0.0.1', port: h.lab.ports.dns } }).forMailauth,
    });
    expect(verified.results.map((result) => [result.selector, result.status.result]).sort()).toEqual([
      [selector, 'pass'],
      ['old', 'pass'],
    ]);

    expect(press.callback?.data?.content).toBe('⏳ Rotating the DKIM key…');
    expect(progressLines(record, press.token)).toEqual([
      `⏳ Publishing the new rsa2048 key ${selector} at ${selector}._domainkey.${domain} and waiting until every authoritative name server shows it…`,
      `⏳ Activating the key ${selector} on the mail host (chasquid restarts)…`,
      `⏳ Verifying a freshly signed message: a test message through the mail host, its s=${selector} signature checked against DNS…`,
    ]);
    await h.emulator.until(() => h.auditPosts().includes(`✅ <@${h.admin.id}> \`/mail dkim-rotate\` \`${domain}\`: ok`));
  });

  it('/mail dkim-show then lists both keys: the new one active, the old one retiring', async () => {
    const embed = embedOf(await h.finished(h.emulator.command(h.viewer, 'dkim-show', { domain })));
    // Both sign (chasquid 1.15 signs with every key present), newest name first.
    expect(embed.fields.map((item) => item.name)).toEqual(['✅ old (active, retiring)', `✅ ${selector} (active)`]);
    expect(field(embed, '✅ old (active, retiring)')).toMatch(/\nRetires after <t:\d+:f>\n```/);
    expect(recordIn(field(embed, `✅ ${selector} (active)`) ?? '')).toBe(await knotTxt(h.lab, domain, `${selector}._domainkey.${domain}`));
  });
});

describe('/mail cert-renew and /mail cert-status', () => {
  it('/mail cert-renew force:true gets a certificate from pebble through Knot, installs it, and chasquid serves it on every port', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'cert-renew', { force: true }), 30_000);
    const embed = embedOf(record);
    expect(embed.title).toBe(`Certificate renewed for ${h.lab.hostname}`);
    expect(embed.color).toBe(colours.ok);
    const installed = installedCertificate();
    expect(installed.issuer).toContain('Pebble');
    expect(field(embed, 'Names')).toBe(h.lab.hostname);
    expect(field(embed, 'Issuer')).toContain('Pebble');
    expect(field(embed, 'Valid until')).toContain(discordDate(new Date(installed.validTo)));
    // The reason for a forced renewal, without parentheses inside parentheses.
    expect(field(embed, 'Why')).toMatch(/^forced, although not due: /);
    expect(field(embed, 'Why')).not.toMatch(/\([^)]*\(/);
    const served = (field(embed, 'Served on') ?? '')
      .replace(/^ports /, '')
      .split(', ')
      .map(Number)
      .sort();
    expect(served).toEqual([h.lab.ports.smtp, h.lab.ports.submission, h.lab.ports.submissionTls].sort());
    for (const chain of await servedEverywhere(h.lab)) expect(chain[0]?.fingerprint256).toBe(installed.fingerprint256);
    const lines = progressLines(record);
    expect(lines[0]).toBe('⏳ Checking whether the certificate is due…');
    expect(lines).toContain(`⏳ Asking the ACME CA for a certificate for ${h.lab.hostname} (DNS-01 challenges)…`);
    expect(lines).toContain(
      `⏳ Publishing the challenge _acme-challenge.${h.lab.hostname} and waiting until every authoritative name server shows it…`
    );
    expect(lines).toContain(`⏳ The CA is checking _acme-challenge.${h.lab.hostname}…`);
    expect(lines.at(-1)).toMatch(/^⏳ Installing the certificate, restarting chasquid and checking that ports [\d, ]+ serve it…$/);
    await h.emulator.until(() => h.auditPosts().includes(`✅ <@${h.admin.id}> \`/mail cert-renew\`: ok`));
  });

  it('/mail cert-renew without force says the new certificate is not due, and changes nothing', async () => {
    const before = installedCertificate().fingerprint256;
    const embed = embedOf(await h.finished(h.emulator.command(h.admin, 'cert-renew', {}), 30_000));
    expect(embed.title).toBe(`Certificate for ${h.lab.hostname} not renewed`);
    expect(embed.color).toBe(colours.info);
    expect(embed.description).toMatch(/^Not due: /);
    expect(installedCertificate().fingerprint256).toBe(before);
  });

  it('/mail cert-status shows the installed certificate and that every listener serves it', async () => {
    const record = await h.finished(h.emulator.command(h.viewer, 'cert-status'), 30_000);
    const embed = embedOf(record);
    const installed = installedCertificate();
    expect(embed.title).toBe(`✅ Certificates of ${h.lab.hostname}`);
    expect(embed.color).toBe(colours.ok);
    const certificate = field(embed, `✅ ${h.lab.hostname}`) ?? '';
    expect(certificate).toContain(`Names: ${h.lab.hostname}`);
    expect(certificate).toContain(`Expires ${discordDate(new Date(installed.validTo))}`);
    expect(certificate).toContain('Renewal not due');
    const listeners = embed.fields.filter((item) => / 127\.0\.0\.1:\d+$/.test(item.name));
    expect(listeners.map((item) => Number(item.name.split(':').at(-1))).sort()).toEqual(
      [h.lab.ports.smtp, h.lab.ports.submission, h.lab.ports.submissionTls].sort()
    );
    for (const listener of listeners) {
      expect(listener.name).toMatch(/^✅ /);
      expect(listener.value).toMatch(new RegExp(`^Serves ${h.lab.hostname.replaceAll('.', '\\.')}: .*Pebble`));
    }
  });
});
