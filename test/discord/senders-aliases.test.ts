// Senders and aliases from Discord, end to end: /mail user-add, passwd, user-remove, users, alias-set, alias-remove
// and aliases through the real discord.js client and the emulator, checked against what the lab's chasquid does —
// SMTP AUTH with the password, mail delivered through an alias.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries } from '../../src/store/audit.ts';
import { deliverOnceAccepted, waitForAuthentication, waitForDelivery } from '../smtp.ts';
import { buttonIds } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import { isEphemeral } from './payloads.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

/** Everything the bot wrote anywhere but to the interaction's own messages: audit posts, audit trail, logs. */
function elsewhere(): string {
  return [h.auditPosts().join('\n'), JSON.stringify(auditEntries(h.runtime.database(), 1000)), h.logs.join('')].join('\n');
}

function passwordIn(text: string): string {
  const match = /\*\* \(shown once, only to you\): `([^`]+)`/.exec(text);
  if (!match?.[1]) throw new Error(`no password in: ${text}`);
  return match[1];
}

async function addSender(address: string): Promise<string> {
  const record = await h.finished(h.emulator.command(h.admin, 'user-add', { address }));
  return passwordIn(record.original?.content ?? '');
}

async function confirmAs(user: typeof h.admin, record: Awaited<ReturnType<Harness['finished']>>) {
  return h.finished(h.emulator.press(user, record.original, buttonIds(record.original)[0] as string));
}

describe('/mail user-add', () => {
  it('adds a sender whose generated password works for SMTP AUTH and appears only in an ephemeral reply', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'user-add', { address: 'Ann@Example.TEST' }));
    expect(record.callback?.type).toBe(5);
    expect(isEphemeral(record.callback?.data?.flags)).toBe(true);
    expect(isEphemeral(record.original?.flags)).toBe(true);
    expect((record.original?.embeds[0] as { title: string }).title).toBe('Added sender ann@example.test');
    const password = passwordIn(record.original?.content ?? '');
    expect(password).toMatch(/^[A-Za-z2-9]{24}$/);
    await waitForAuthentication(h.lab, 'ann@example.test', password, true);

    const carrying = h.emulator.requestsContaining(password);
    expect(carrying.length).toBeGreaterThan(0);
    for (const request of carrying) expect(request.message?.ephemeral, `${request.method} ${request.path}`).toBe(true);
    await h.emulator.until(() => h.auditPosts().includes(`✅ <@${h.admin.id}> \`/mail user-add\` \`Ann@Example.TEST\`: ok`));
    expect(elsewhere()).not.toContain(password);
    expect(auditEntries(h.runtime.database())[0]).toMatchObject({ operation: 'user-add', target: 'ann@example.test', outcome: 'ok' });
  });

  it('takes a typed password from a private form; it reaches chasquid and nothing else', async () => {
    const shown = await h.finished(h.emulator.command(h.admin, 'user-add', { address: 'bob@example.test', 'type-password': true }));
    expect(shown.callback?.type).toBe(9);
    const typed = 'Quiet-Harbour-Lantern-42';
    const record = await h.finished(h.emulator.submitModal(h.admin, shown, { secret: typed }));
    expect(isEphemeral(record.original?.flags)).toBe(true);
    expect(record.text).toContain('Added sender bob@example.test\nWith the password you typed.');
    await waitForAuthentication(h.lab, 'bob@example.test', typed, true);
    expect(h.emulator.requestsContaining(typed)).toEqual([]);
    await h.emulator.until(() => h.auditPosts().some((post) => post.includes('bob@example.test')));
    expect(elsewhere()).not.toContain(typed);
  });

  it('refuses a weak typed password privately, without repeating it, and changes nothing', async () => {
    const shown = await h.finished(h.emulator.command(h.admin, 'user-add', { address: 'weak@example.test', 'type-password': true }));
    const record = await h.finished(h.emulator.submitModal(h.admin, shown, { secret: 'password1234' }));
    expect(isEphemeral(record.original?.flags)).toBe(true);
    expect(record.text).toContain('❌ The password given is not acceptable: it is a well-known password.');
    expect(h.emulator.requestsContaining('password1234')).toEqual([]);
    const users = await h.finished(h.emulator.command(h.viewer, 'users', {}));
    expect(users.text).not.toContain('weak@example.test');
    await h.emulator.until(() =>
      h.auditPosts().includes(`❌ <@${h.admin.id}> \`/mail user-add\` \`weak@example.test\`: failed (weak-password)`)
    );
  });

  it('refuses an address outside MAIL_DOMAINS before anything reaches the host', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'user-add', { address: 'x@../escape' }));
    expect(isEphemeral(record.original?.flags)).toBe(true);
    expect(record.text).toMatch(/^❌ The address "x@\.\.\/escape" is not valid/);
  });
});

describe('/mail passwd', () => {
  it('gives a sender a new generated password, shown privately: the old one stops working', async () => {
    const old = await addSender('carol@example.test');
    const record = await h.finished(h.emulator.command(h.admin, 'passwd', { address: 'carol@example.test' }));
    const password = passwordIn(record.original?.content ?? '');
    expect(password).not.toBe(old);
    await waitForAuthentication(h.lab, 'carol@example.test', password, true);
    await waitForAuthentication(h.lab, 'carol@example.test', old, false);
    for (const request of h.emulator.requestsContaining(password)) expect(request.message?.ephemeral).toBe(true);
    expect(elsewhere()).not.toContain(password);
  });
});

describe('/mail users and /mail user-remove', () => {
  it('lists the senders on the host, all domains or one', async () => {
    await addSender('dave@example.org');
    const all = await h.finished(h.emulator.command(h.viewer, 'users', {}));
    expect(all.original?.flags).toBe(0);
    expect(all.original?.embeds[0]).toMatchObject({
      title: 'Senders',
      description: expect.stringContaining('ann@example.test\nbob@example.test\ncarol@example.test'),
    });
    expect(all.text).toContain('dave@example.org');
    const org = await h.finished(h.emulator.command(h.viewer, 'users', { domain: 'example.org' }));
    expect(org.original?.embeds[0]).toMatchObject({
      title: 'Senders of example.org',
      description: 'dave@example.org',
      footer: { text: '1 sender(s)' },
    });
  });

  it("asks before removing; Confirm from another admin does nothing; the invoker's Confirm removes the sender", async () => {
    const password = await addSender('erin@example.test');
    const record = await h.finished(h.emulator.command(h.admin, 'user-remove', { address: 'erin@example.test' }));
    expect(record.text).toContain('Remove the sender `erin@example.test`?');
    const question = structuredClone(record.original);

    const intruder = await confirmAs(h.otherAdmin, record);
    expect(isEphemeral(intruder.callback?.data?.flags)).toBe(true);
    expect(intruder.text).toBe(`Only <@${h.admin.id}>, who ran the command, can answer this.`);
    expect(record.original).toEqual(question);
    await waitForAuthentication(h.lab, 'erin@example.test', password, true);
    expect((await h.finished(h.emulator.command(h.viewer, 'users', {}))).text).toContain('erin@example.test');

    await confirmAs(h.admin, record);
    expect(record.original?.embeds[0]).toMatchObject({ title: 'Removed sender erin@example.test' });
    await waitForAuthentication(h.lab, 'erin@example.test', password, false);
    expect((await h.finished(h.emulator.command(h.viewer, 'users', {}))).text).not.toContain('erin@example.test');
    await h.emulator.until(() => h.auditPosts().includes(`✅ <@${h.admin.id}> \`/mail user-remove\` \`erin@example.test\`: ok`));
  });

  it('says so, without asking, when the address is not a sender', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'user-remove', { address: 'nobody@example.test' }));
    expect(buttonIds(record.original)).toEqual([]);
    expect(record.originalDeleted).toBe(true);
    expect(record.followUps[0]?.content).toContain('nobody@example.test is not a sender; nothing was changed.');
  });
});

describe('/mail alias-set, aliases and alias-remove', () => {
  it('creates an alias that chasquid delivers through', async () => {
    const record = await h.finished(
      h.emulator.command(h.admin, 'alias-set', { address: 'sales@example.test', targets: 'ann@example.test' })
    );
    expect(record.original?.embeds[0]).toMatchObject({ title: 'sales@example.test → ann@example.test' });
    const marker = `through-the-alias-${Date.now()}`;
    await deliverOnceAccepted(h.lab, 'someone@elsewhere.test', 'sales@example.test', marker);
    await waitForDelivery(h.lab, 'ann@example.test', marker);
  });

  it('creates a catch-all without asking, and asks before replacing it', async () => {
    const first = await h.finished(h.emulator.command(h.admin, 'alias-set', { address: '*@example.test', targets: 'ann@example.test' }));
    expect(buttonIds(first.original)).toEqual([]);
    expect(first.original?.embeds[0]).toMatchObject({ title: '*@example.test → ann@example.test' });

    const second = await h.finished(h.emulator.command(h.admin, 'alias-set', { address: '*@example.test', targets: 'bob@example.test' }));
    expect(second.text).toContain(
      'Replace the catch-all of `example.test`? Mail to unknown addresses now goes to `ann@example.test`; it would go to `bob@example.test`.'
    );
    expect((await h.finished(h.emulator.command(h.viewer, 'aliases', { domain: 'example.test' }))).text).toContain(
      '*@example.test → ann@example.test'
    );
    await confirmAs(h.admin, second);
    expect(second.original?.embeds[0]).toMatchObject({
      title: '*@example.test → bob@example.test',
      description: expect.stringContaining('Was: ann@example.test'),
    });
    expect((await h.finished(h.emulator.command(h.viewer, 'aliases', { domain: 'example.test' }))).text).toContain(
      '*@example.test → bob@example.test'
    );
  });

  it('asks before an alias takes over the mail of an existing sender, and Cancel changes nothing', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'alias-set', { address: 'ann@example.test', targets: 'bob@example.test' }));
    expect(record.text).toContain(
      '`ann@example.test` is a sender: an alias takes over its mail, which would go to `bob@example.test` instead of its own mailbox. Set the alias?'
    );
    expect(buttonIds(record.original)).toHaveLength(2);
    await h.finished(h.emulator.press(h.admin, record.original, buttonIds(record.original)[1] as string));
    expect((await h.finished(h.emulator.command(h.viewer, 'aliases', { domain: 'example.test' }))).text).not.toContain(
      'ann@example.test →'
    );
  });

  it('asks before removing an alias, and removes it on Confirm', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'alias-remove', { address: 'sales@example.test' }));
    expect(record.text).toContain('Remove the alias `sales@example.test` (→ `ann@example.test`)?');
    await confirmAs(h.admin, record);
    expect(record.original?.embeds[0]).toMatchObject({ title: 'Removed alias sales@example.test' });
    const list = await h.finished(h.emulator.command(h.viewer, 'aliases', {}));
    expect(list.text).not.toContain('sales@example.test');
    expect(list.original?.embeds[0]).toMatchObject({ title: 'Aliases', footer: { text: '1 alias(es)' } });
  });
});

describe('autocomplete from the host', () => {
  it('suggests existing senders and aliases, fresh after a change', async () => {
    const senders = await h.emulator.autocomplete(h.admin, 'passwd', 'address', 'example.test');
    expect(senders.choices?.map((choice) => choice.value)).toEqual(['ann@example.test', 'bob@example.test', 'carol@example.test']);
    const aliases = await h.emulator.autocomplete(h.admin, 'alias-remove', 'address', '');
    expect(aliases.choices?.map((choice) => choice.value)).toEqual(['*@example.test']);
    await addSender('frank@example.test');
    const fresh = await h.emulator.autocomplete(h.admin, 'user-remove', 'address', 'fr');
    expect(fresh.choices?.map((choice) => choice.value)).toEqual(['frank@example.test']);
  });
});
