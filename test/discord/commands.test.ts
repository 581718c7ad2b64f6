// Every /mail subcommand through the real discord.js client, the emulator and the lab: who may run it, what it
// answers, and what the audit trail and the audit channel show.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries } from '../../src/store/audit.ts';
import type { OptionValue } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import { isEphemeral } from './payloads.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

/** Each changing command with options a person could give (dns-diff is a change only with accept). */
const changes: Array<[string, Record<string, OptionValue>, string]> = [
  ['user-add', { address: 'new@example.test' }, 'new@example.test'],
  ['user-add', { address: 'typed@example.test', 'type-password': true }, 'typed@example.test'],
  ['passwd', { address: 'i@example.test' }, 'i@example.test'],
  ['user-remove', { address: 'i@example.test' }, 'i@example.test'],
  ['alias-set', { address: '*@example.test', targets: 'i@example.test' }, '*@example.test'],
  ['alias-remove', { address: 'sales@example.test' }, 'sales@example.test'],
  ['dkim-rotate', { domain: 'example.test', algo: 'ed25519' }, 'example.test'],
  ['cert-renew', { force: true }, ''],
  ['dns-diff', { domain: 'example.test', accept: true }, 'example.test'],
];

const readings: Array<[string, Record<string, OptionValue>]> = [
  ['users', {}],
  ['users', { domain: 'example.org' }],
  ['aliases', {}],
  ['dkim-show', { domain: 'example.test' }],
  ['cert-status', {}],
  ['check', { domain: 'example.test' }],
  ['dns-diff', { domain: 'example.test' }],
];

describe('/mail status', () => {
  it('shows the lab host: version, running daemon, domains and certificate, in a public reply deferred at once', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'status'));
    expect(record.callback?.type).toBe(5);
    expect(isEphemeral(record.callback?.data?.flags)).toBe(false);
    expect((record.callback?.at ?? Infinity) - record.createdAt).toBeLessThan(2000);
    expect(isEphemeral(record.original?.flags)).toBe(false);
    const embed = record.original?.embeds[0] as { title: string; fields: Array<{ name: string; value: string }> };
    const field = (name: string) => embed.fields.find((item) => item.name === name)?.value;
    expect(embed.title).toBe(`Mail host ${h.lab.hostname}`);
    expect(field('chasquid')).toMatch(/^1\.15\.0.* built-in signing/);
    expect(field('Service')).toBe(`running (pid ${h.lab.chasquidPid()} as chasquid)`);
    expect(field('Domains')).toBe('example.org, example.test');
    expect(field('Certificates')).toMatch(
      new RegExp(`^${h.lab.hostname.replaceAll('.', '\\.')}: expires \\d{4}-\\d\\d-\\d\\d, (89\\.\\d|90) days left$`)
    );
    expect(field('Queue')).toBe('0 message(s)');
  });

  it('is open to a viewer', async () => {
    const record = await h.finished(h.emulator.command(h.viewer, 'status'));
    expect(record.text).toContain(`running (pid ${h.lab.chasquidPid()} as chasquid)`);
  });

  it('is refused, privately, to a member without a mailops role, and the refusal is audited', async () => {
    const record = await h.finished(h.emulator.command(h.stranger, 'status'));
    expect(record.callback?.type).toBe(4);
    expect(isEphemeral(record.callback?.data?.flags)).toBe(true);
    expect(record.text).toContain('needs a mailops viewer or admin role');
    expect(auditEntries(h.runtime.database())[0]).toMatchObject({
      actor: `discord:${h.stranger.id}(mallory)`,
      operation: 'status',
      outcome: 'refused',
    });
    await h.emulator.until(() => h.auditPosts().some((post) => post.includes(`<@${h.stranger.id}> \`/mail status\`: refused`)));
  });
});

describe('outside the server', () => {
  it('refuses /mail in a direct message, even to an admin', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'status', {}, { directMessage: true }));
    expect(isEphemeral(record.callback?.data?.flags)).toBe(true);
    expect(record.text).toBe('⛔ /mail status works only inside the server where mailops runs.');
  });
});

describe('changing commands', () => {
  it.each(changes)(
    '/mail %s %o is refused to a viewer and to a member without a role, privately and audited',
    async (name, options, target) => {
      for (const member of [h.viewer, h.stranger]) {
        const before = h.auditPosts().length;
        const record = await h.finished(h.emulator.command(member, name, options));
        expect(record.callback?.type).toBe(4);
        expect(isEphemeral(record.callback?.data?.flags)).toBe(true);
        expect(record.text).toContain(`/mail ${name} changes the mail server and needs a mailops admin role`);
        const [entry] = auditEntries(h.runtime.database());
        expect(entry).toMatchObject({
          actor: `discord:${member.id}(${member.username})`,
          operation: name,
          target,
          outcome: 'refused',
          detail: 'no admin role',
        });
        await h.emulator.until(() => h.auditPosts().length > before);
        expect(h.auditPosts().at(-1)).toBe(
          `⛔ <@${member.id}> \`/mail ${name}\`${target === '' ? '' : ` \`${target}\``}: refused (no admin role)`
        );
      }
    }
  );
});

describe('reading commands', () => {
  it.each(readings)('/mail %s %o is refused to a member without a role', async (name, options) => {
    const record = await h.finished(h.emulator.command(h.stranger, name, options));
    expect(isEphemeral(record.callback?.data?.flags)).toBe(true);
    expect(record.text).toContain(`/mail ${name} needs a mailops viewer or admin role`);
  });
});
