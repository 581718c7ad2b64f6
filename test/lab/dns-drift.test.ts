// dns-diff and the dns-drift job from the command line, against the lab's Knot and chasquid (with a DKIM key): the
// accepted state is recorded on first sight; a record changed in Knot is drift (exit 1, listed in --json) until it is
// restored or accepted; a record that contradicts the mail host itself (a DKIM key that is not the host's) stays drift
// after --accept; and without Discord settings run-job prints the alerts it would post.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries } from '../../src/store/audit.ts';
import { openDatabase } from '../../src/store/database.ts';
import { runCli } from '../cli.ts';
import { dkimKey, mailZone, txt } from './check-zones.ts';
import { startLab, type Lab } from './lab.ts';

const key = dkimKey();
const otherKey = dkimKey();
const domain = 'example.test';
const dmarc = 'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test';
let lab: Lab;

beforeAll(async () => {
  lab = await startLab({
    chasquid: '1.15',
    domains: [domain],
    zones: {
      [domain]: mailZone(domain, `mail.${domain}`, { dmarc: [dmarc], extra: ['mail A 127.0.0.1', txt('s1._domainkey', key.record)] }),
    },
    dkimKeys: [{ domain, selector: 's1', privateKeyPem: key.privateKeyPem }],
  });
});

afterAll(async () => {
  await lab?.stop();
});

const diff = async (...extra: string[]) => {
  const run = await runCli(['dns-diff', domain, '--json', ...extra, '--env-file', lab.envFile]);
  return { code: run.code, stderr: run.stderr, body: JSON.parse(run.stdout) };
};

async function setTxt(owner: string, value: string): Promise<void> {
  await lab.knotc('zone-begin', domain);
  await lab.knotc('zone-unset', domain, owner, 'TXT');
  await lab.knotc('zone-set', domain, owner, '60', 'TXT', ...value.match(/.{1,250}/g)!.map((part) => JSON.stringify(part)));
  await lab.knotc('zone-commit', domain);
}

describe('dns-diff', () => {
  it('finds no drift in a right domain, and records the accepted state on first sight', async () => {
    const { code, body } = await diff();
    expect(code).toBe(0);
    expect(body).toMatchObject({ domain, drift: [], unknown: [], acceptedNow: false });
    // MX, A, AAAA, SPF, DMARC, the DKIM key of s1, the PTR of 127.0.0.1.
    expect(body.records).toBe(7);
    expect(body.accepted.by).toMatch(/\(first seen\)$/);
  });

  it('exits 1 and lists a DMARC record changed in Knot, with expected and actual values', async () => {
    await setTxt('_dmarc', 'v=DMARC1; p=none');
    const { code, body } = await diff();
    expect(code).toBe(1);
    expect(body.drift).toEqual([
      {
        name: `_dmarc.${domain}`,
        type: 'TXT',
        expected: [dmarc],
        actual: ['v=DMARC1; p=none'],
        reason: 'differs from the accepted state',
        contradiction: false,
      },
    ]);
    const text = await runCli(['dns-diff', domain, '--env-file', lab.envFile]);
    expect(text.stdout).toContain(`DRIFT  _dmarc.${domain} TXT: differs from the accepted state`);
    expect(text.stdout).toContain(`mailops dns-diff ${domain} --accept`);
  });

  it('--accept records the current answers (audited), and exits 0', async () => {
    const { code, body } = await diff('--accept', '--actor', 'alice');
    expect(code).toBe(0);
    expect(body).toMatchObject({ drift: [], acceptedNow: true, accepted: { by: 'alice' } });
    expect((await diff()).code).toBe(0);
    const database = openDatabase(lab.env.STATE_DB as string);
    try {
      expect(auditEntries(database)[0]).toMatchObject({ actor: 'alice', operation: 'dns-diff', target: domain, outcome: 'ok' });
    } finally {
      database.close();
    }
  });

  it('a DKIM record that is not the key chasquid signs with stays drift after --accept', async () => {
    await setTxt('s1._domainkey', otherKey.record);
    const { code, body } = await diff();
    expect(code).toBe(1);
    expect(body.drift).toMatchObject([{ name: `s1._domainkey.${domain}`, type: 'TXT', expected: [key.record], actual: [otherKey.record] }]);
    const accepted = await diff('--accept');
    expect(accepted.code).toBe(1);
    expect(accepted.body.drift).toMatchObject([{ name: `s1._domainkey.${domain}`, expected: [key.record], contradiction: true }]);
    expect(accepted.body.drift[0].reason).toContain('the key of selector s1, which chasquid signs with, is not the one published');
    await setTxt('s1._domainkey', key.record);
    await diff('--accept');
    expect((await diff()).code).toBe(0);
  });

  it('an MX that no longer names the mail host is drift even when accepted', async () => {
    await lab.knotc('zone-begin', domain);
    await lab.knotc('zone-unset', domain, '@', 'MX');
    await lab.knotc('zone-set', domain, '@', '60', 'MX', '10 mx.elsewhere.test.');
    await lab.knotc('zone-commit', domain);
    const { code, body } = await diff('--accept');
    expect(code).toBe(1);
    expect(body.drift).toMatchObject([
      { name: domain, type: 'MX', expected: [`10 mail.${domain}.`], actual: ['10 mx.elsewhere.test.'], contradiction: true },
    ]);
    expect(body.drift[0].reason).toContain(`no MX record names the mail host mail.${domain}`);
    const text = await runCli(['dns-diff', domain, '--accept', '--env-file', lab.envFile]);
    expect(text.stdout).toContain('except the record below: it contradicts the mail host and was not accepted');
    expect(text.stdout).toContain(`${domain} MX contradicts the mail host: publish what is expected`);
    expect(text.stdout).not.toContain('--accept');
    await lab.knotc('zone-begin', domain);
    await lab.knotc('zone-unset', domain, '@', 'MX');
    await lab.knotc('zone-set', domain, '@', '60', 'MX', `10 mail.${domain}.`);
    await lab.knotc('zone-commit', domain);
    // Putting the MX back is what was expected all along: no drift, nothing to accept.
    expect((await diff()).code).toBe(0);
  });

  it('refuses a domain mailops does not manage (exit 2)', async () => {
    const run = await runCli(['dns-diff', 'other.test', '--env-file', lab.envFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('MAIL_DOMAINS');
  });
});

describe('run-job dns-drift without Discord settings', () => {
  it('prints the alerts it would post, once per drift, and the recovery', async () => {
    await setTxt('_dmarc', 'v=DMARC1; p=reject');
    const first = await runCli(['run-job', 'dns-drift', '--env-file', lab.envFile]);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain(`[drift, pages on-call] DNS drift in ${domain}: _dmarc.${domain} TXT`);
    expect(first.stdout).toContain('Not posted: the Discord channels are not configured');
    const again = JSON.parse((await runCli(['run-job', 'dns-drift', '--json', '--env-file', lab.envFile])).stdout);
    expect(again).toMatchObject({ job: 'dns-drift', ok: false, alerts: [], queued: 0 });
    // p=none is the accepted state since the --accept above.
    await setTxt('_dmarc', 'v=DMARC1; p=none');
    const recovered = JSON.parse((await runCli(['run-job', 'dns-drift', '--json', '--env-file', lab.envFile])).stdout);
    expect(recovered).toMatchObject({
      job: 'dns-drift',
      ok: true,
      alerts: [{ kind: 'recovery', message: `DNS of ${domain} matches what is expected again: _dmarc.${domain} TXT.` }],
    });
  });
});

describe('a record that contradicts the mail host is never accepted', () => {
  it('an SPF that does not authorise the host stays a contradiction after --accept, and fixing it is a recovery that pages nobody', async () => {
    const jobRun = async () => JSON.parse((await runCli(['run-job', 'dns-drift', '--json', '--env-file', lab.envFile])).stdout);
    await setTxt('@', 'v=spf1 -all');
    expect((await jobRun()).alerts).toMatchObject([{ kind: 'drift', page: true }]);

    const accepted = await diff('--accept');
    expect(accepted.code).toBe(1);
    expect(accepted.body.drift).toMatchObject([
      { name: domain, type: 'TXT', expected: ['v=spf1 mx -all'], actual: ['v=spf1 -all'], contradiction: true },
    ]);
    // Our own check_host(), as the spf check evaluates it: -all fails the host's address.
    expect(accepted.body.drift[0].reason).toContain('the SPF record does not authorise 127.0.0.1 (fail)');
    expect((await diff()).body.drift).toMatchObject([{ expected: ['v=spf1 mx -all'], contradiction: true }]);
    // The same contradiction, still open: no second page.
    expect((await jobRun()).alerts).toEqual([]);

    await setTxt('@', 'v=spf1 mx -all');
    expect(await diff()).toMatchObject({ code: 0, body: { drift: [] } });
    const fixed = await jobRun();
    expect(fixed).toMatchObject({ ok: true, alerts: [{ kind: 'recovery', page: false }] });
    expect(fixed.alerts.some((alert: { page: boolean }) => alert.page)).toBe(false);
  }, 180_000);

  it('a contradiction seen for the first time is not recorded: the right record that follows is accepted, not drift', async () => {
    const database = openDatabase(lab.env.STATE_DB as string);
    try {
      database.prepare('DELETE FROM dns_snapshots WHERE domain = ?').run(domain);
    } finally {
      database.close();
    }
    await setTxt('@', 'v=spf1 -all');
    expect((await diff()).body.drift).toMatchObject([{ name: domain, type: 'TXT', contradiction: true }]);
    await setTxt('@', 'v=spf1 mx -all');
    expect(await diff()).toMatchObject({ code: 0, body: { drift: [] } });
  }, 60_000);
});
