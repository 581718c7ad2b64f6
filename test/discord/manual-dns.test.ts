// DNS_PROVIDER=manual from Discord: the reply shows the exact record to publish, as code, with a "Published" button
// that only the person who ran the command can press. Here the "person" is the test: it copies the record from the
// message into the lab's Knot with knotc, as an operator would in a DNS panel, and presses the button through the
// emulator. Someone else's press changes nothing; nobody pressing in time fails cleanly, with nothing left behind.

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colours } from '../../src/bot/render.ts';
import { auditEntries } from '../../src/store/audit.ts';
import { servedEverywhere } from '../lab/served-chain.ts';
import { knotTxt, publishByHand, removeByHand } from './dns-by-hand.ts';
import { buttonIds, messageText, type InteractionRecord } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import { isEphemeral } from './payloads.ts';

const domain = 'example.test';
const pressTimeoutMs = 6000;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ lab: { dns: true, acme: true }, env: { DNS_PROVIDER: 'manual' }, pressTimeoutMs });
});

afterAll(async () => {
  await h?.stop();
});

const keyFiles = () =>
  readdirSync(path.join(h.lab.chasquidDir, 'domains', domain))
    .filter((name) => name.startsWith('dkim:'))
    .sort();
const offered = (record: InteractionRecord, label: string) =>
  ((record.original?.components ?? []) as Array<{ components?: Array<{ custom_id?: string; label?: string }> }>)
    .flatMap((row) => row.components ?? [])
    .find((button) => button.label === label)?.custom_id;

/** Waits until the reply offers the button `label`; returns its custom id and the zone-file line shown with it. */
async function waitForOffer(record: InteractionRecord, label: string): Promise<{ button: string; line: string }> {
  await h.emulator.until(() => offered(record, label) !== undefined, 15_000, `the "${label}" button`);
  const line = /```\n(\S+\. \d+ IN TXT .+)\n```/.exec(record.original?.content ?? '')?.[1];
  if (!line) throw new Error(`no zone-file line in: ${record.original?.content}`);
  return { button: offered(record, label) as string, line };
}

/** Runs /mail dkim-rotate as the admin and presses Confirm: the command, and the press that carries the answer on. */
async function rotate(): Promise<{ record: InteractionRecord; confirm: InteractionRecord }> {
  const record = await h.finished(h.emulator.command(h.admin, 'dkim-rotate', { domain }));
  expect(record.text).toContain('DNS is published by hand here (DNS_PROVIDER=manual): you will be shown the record to publish.');
  return { record, confirm: h.emulator.press(h.admin, record.original, buttonIds(record.original)[0] as string) };
}

describe('publishing by hand from Discord (DNS_PROVIDER=manual)', () => {
  it("shows the record with a Published button; another admin's press does nothing; the invoker's press goes on", async () => {
    const zoneBefore = await h.lab.knotc('zone-read', domain);
    const { record } = await rotate();
    const { button, line } = await waitForOffer(record, 'Published');
    const selector = /^(\d{8})\._domainkey/.exec(line)?.[1] as string;
    expect(line).toMatch(/^\d{8}\._domainkey\.example\.test\. 3600 IN TXT "v=DKIM1; k=rsa; p=[^"]+" "[^"]+"$/);
    const prompt = record.original?.content ?? '';
    expect(prompt).toContain(
      `📝 **Publish this TXT record in the DNS of ${selector}._domainkey.${domain} (keep any other TXT records at that name):**`
    );
    expect(prompt).toContain(
      `In a DNS panel: name \`${selector}._domainkey.${domain}\`, type \`TXT\`, value:\n\`\`\`\n"v=DKIM1; k=rsa; p=`
    );
    expect(prompt).toContain(`Only <@${h.admin.id}> can answer.`);
    expect(isEphemeral(record.original?.flags)).toBe(false);
    // Waiting: nothing published by mailops, nothing activated.
    expect(await h.lab.knotc('zone-read', domain)).toBe(zoneBefore);
    expect(keyFiles()).toEqual([]);

    const question = structuredClone(record.original);
    const intruder = await h.finished(h.emulator.press(h.otherAdmin, record.original, button));
    expect(isEphemeral(intruder.callback?.data?.flags)).toBe(true);
    expect(messageText(intruder.original!)).toBe(`Only <@${h.admin.id}>, who ran the command, can answer this.`);
    expect(record.original).toEqual(question);
    expect(keyFiles()).toEqual([]);

    await publishByHand(h.lab, domain, line);
    const press = await h.finished(h.emulator.press(h.admin, record.original, button), 30_000);
    expect(press.callback?.type).toBe(7);
    expect(press.callback?.data?.content).toBe(`⏳ Waiting until every authoritative name server shows ${selector}._domainkey.${domain}…`);

    const embed = record.original?.embeds[0] as { title: string; color: number; fields: Array<{ name: string; value: string }> };
    expect(embed.title).toBe(`New DKIM key for ${domain}: ${selector}`);
    expect(embed.color).toBe(colours.ok);
    expect(embed.fields.find((field) => field.name === 'Verified')?.value).toContain(`s=${selector} pass`);
    expect(buttonIds(record.original)).toEqual([]);
    expect(keyFiles()).toEqual([`dkim:${selector}.pem`]);
    expect(line.replace(/" "/g, '')).toContain(await knotTxt(h.lab, domain, `${selector}._domainkey.${domain}`));
    await h.emulator.until(() => h.auditPosts().includes(`✅ <@${h.admin.id}> \`/mail dkim-rotate\` \`${domain}\`: ok`));
  });

  it('fails cleanly when nobody presses Published in time: a private message says so, nothing is left changed', async () => {
    const zoneBefore = await h.lab.knotc('zone-read', domain);
    const filesBefore = keyFiles();
    const { record, confirm } = await rotate();
    const { button } = await waitForOffer(record, 'Published');
    const stale = structuredClone(record.original);
    // The answer goes on through the Confirm press's token: the public reply is deleted, the error follows privately.
    await h.emulator.until(() => confirm.originalDeleted && confirm.followUps.length > 0, pressTimeoutMs + 10_000, 'the failure');

    const failure = confirm.followUps[0];
    const followUp = h.emulator.requests.find((request) => request.method === 'POST' && request.message?.id === failure?.id);
    expect(followUp?.message?.ephemeral).toBe(true);
    expect(failure?.content).toMatch(
      new RegExp(
        `^❌ dkim-rotate ${domain.replace('.', '\\.')} stopped at step "publish the new key in DNS": ` +
          `The TXT record at \\d{8}[a-z]*\\._domainkey\\.example\\.test was not confirmed published: Nobody pressed "Published" within 6 seconds\\. Nothing had been changed\\.\n` +
          'If you published it meanwhile, remove it again\\.'
      )
    );
    expect(await h.lab.knotc('zone-read', domain)).toBe(zoneBefore);
    expect(keyFiles()).toEqual(filesBefore);
    expect(auditEntries(h.runtime.database())[0]).toMatchObject({ operation: 'dkim-rotate', target: domain, outcome: 'failed' });
    await h.emulator.until(() =>
      h.auditPosts().includes(`❌ <@${h.admin.id}> \`/mail dkim-rotate\` \`${domain}\`: failed (manual-dns-not-confirmed)`)
    );

    const late = await h.finished(h.emulator.press(h.admin, stale, button));
    expect(isEphemeral(late.callback?.data?.flags)).toBe(true);
    expect(late.text).toBe('⌛ This button has expired or was pressed already. Run the command again if its work did not finish.');
    expect(keyFiles()).toEqual(filesBefore);
  });

  it('/mail cert-renew asks for the ACME challenge record, then for its removal, and installs the certificate', async () => {
    const record = h.emulator.command(h.admin, 'cert-renew', { force: true });
    const challenge = `_acme-challenge.${h.lab.hostname}`;
    const add = await waitForOffer(record, 'Published');
    expect(add.line).toMatch(new RegExp(`^${challenge.replaceAll('.', '\\.')}\\. 60 IN TXT "[A-Za-z0-9_-]{43}"$`));
    await publishByHand(h.lab, domain, add.line);
    h.emulator.press(h.admin, record.original, add.button);

    const remove = await waitForOffer(record, 'Removed');
    expect(remove.line).toBe(add.line);
    expect(record.original?.content).toContain(
      `📝 **Remove this TXT record from the DNS of ${challenge} (only this value; other TXT records at that name stay):**`
    );
    await removeByHand(h.lab, domain, remove.line);
    await h.finished(h.emulator.press(h.admin, record.original, remove.button), 30_000);
    const embed = record.original?.embeds[0] as { title: string; fields: Array<{ name: string; value: string }> };
    expect(embed.title).toBe(`Certificate renewed for ${h.lab.hostname}`);
    expect(await knotTxt(h.lab, domain, challenge)).toBe('');
    for (const chain of await servedEverywhere(h.lab)) expect(chain[0]?.issuer).toContain('Pebble');
  });

  // Last: it stops the bot.
  it('stops waiting when mailops stops, says so, and leaves nothing changed', async () => {
    const zoneBefore = await h.lab.knotc('zone-read', domain);
    const filesBefore = keyFiles();
    const { record, confirm } = await rotate();
    await waitForOffer(record, 'Published');
    await h.bot.stop();
    expect(confirm.originalDeleted).toBe(true);
    expect(confirm.followUps[0]?.content).toContain(
      'mailops is stopping, so it stopped waiting for "Published". Nothing had been changed.'
    );
    expect(await h.lab.knotc('zone-read', domain)).toBe(zoneBefore);
    expect(keyFiles()).toEqual(filesBefore);
  });
});
