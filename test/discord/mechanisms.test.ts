// The bot's generic mechanisms, end to end through discord.js and the emulator, with small test-only commands:
// deferring and progress, Confirm/Cancel buttons, the password modal, secrets only in ephemeral messages,
// autocomplete with its cache, and errors as private messages.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buttonIds, messageText } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import { isEphemeral, messageFlags } from './payloads.ts';
import { probeCommands, probeLog, slowSource } from './probe-commands.ts';

let h: Harness;
const confirmTimeoutMs = 4000;

beforeAll(async () => {
  h = await startHarness({ extraCommands: probeCommands, confirmTimeoutMs });
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => {
  probeLog.executed.length = 0;
});

const webhookEdits = (token: string) =>
  h.emulator.requests.filter((request) => request.method === 'PATCH' && request.path.includes(`/${token}/messages/@original`));

describe('timing', () => {
  it('defers within the 3-second window, shows progress, and ends with the result after the window', async () => {
    const record = h.emulator.command(h.viewer, 'probe-progress', { steps: '3', 'step-ms': '1100' });
    await h.finished(record, 10_000);
    expect(record.callback?.type).toBe(5);
    expect((record.callback?.at ?? Infinity) - record.createdAt).toBeLessThan(2000);
    expect(record.rejectedCallbacks).toEqual([]);
    const edits = webhookEdits(record.token);
    expect(edits.map((edit) => (edit.body as { content?: string }).content)).toEqual([
      '⏳ Starting…',
      '⏳ Step 1 of 3',
      '⏳ Step 2 of 3',
      '⏳ Step 3 of 3',
      '',
    ]);
    expect(edits.every((edit) => edit.status === 200)).toBe(true);
    expect((edits.at(-1)?.at ?? 0) - record.createdAt).toBeGreaterThan(3000);
    expect(record.original?.embeds).toEqual([{ title: 'Done', description: '3 steps' }]);
  });
});

describe('confirmation', () => {
  it('asks with Confirm/Cancel and runs only when the invoker confirms; another admin pressing changes nothing', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'probe-confirm', { address: 'x@example.test' }));
    expect(record.text).toContain('Really change **x@example.test**?');
    expect(record.text).toContain(`Only <@${h.admin.id}> can answer.`);
    const [confirm, cancel] = buttonIds(record.original);
    expect(confirm).toMatch(/^mail:confirm:/);
    expect(cancel).toMatch(/^mail:cancel:/);
    const question = structuredClone(record.original);

    for (const intruder of [h.otherAdmin, h.viewer]) {
      const press = await h.finished(h.emulator.press(intruder, record.original, confirm as string));
      expect(press.callback?.type).toBe(4);
      expect(isEphemeral(press.callback?.data?.flags)).toBe(true);
      expect(messageText(press.original!)).toBe(`Only <@${h.admin.id}>, who ran the command, can answer this.`);
    }
    expect(record.original).toEqual(question);
    expect(probeLog.executed).toEqual([]);

    const press = await h.finished(h.emulator.press(h.admin, record.original, confirm as string));
    expect(press.callback?.type).toBe(7);
    expect(record.original?.content).toBe('Changed x@example.test.');
    expect(buttonIds(record.original)).toEqual([]);
    expect(probeLog.executed).toMatchObject([
      { command: 'probe-confirm', actor: `discord:${h.admin.id}(alice)`, input: { address: 'x@example.test' } },
    ]);
    await h.emulator.until(() => h.auditPosts().includes(`✅ <@${h.admin.id}> \`/mail probe-confirm\` \`x@example.test\`: ok`));
  });

  it('Cancel changes nothing and removes the buttons', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'probe-confirm', { address: 'y@example.test' }));
    const [, cancel] = buttonIds(record.original);
    await h.finished(h.emulator.press(h.admin, record.original, cancel as string));
    expect(record.text).toContain('Cancelled: nothing was changed.');
    expect(buttonIds(record.original)).toEqual([]);
    expect(probeLog.executed).toEqual([]);
  });

  it('expires: the question says so, and a late press changes nothing', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'probe-confirm', { address: 'z@example.test' }));
    const stale = structuredClone(record.original);
    await h.emulator.until(() => record.text.includes('Not confirmed in time'), confirmTimeoutMs + 2000, 'the expiry');
    expect(buttonIds(record.original)).toEqual([]);
    const late = await h.finished(h.emulator.press(h.admin, stale, buttonIds(stale)[0] as string));
    expect(isEphemeral(late.callback?.data?.flags)).toBe(true);
    expect(late.text).toContain('expired or was answered already: nothing was changed');
    expect(probeLog.executed).toEqual([]);
  });

  it('runs at once when the command has no question for these options', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'probe-confirm', { address: 'noask@example.test' }));
    expect(record.text).toBe('Changed noask@example.test.');
    expect(probeLog.executed).toHaveLength(1);
  });
});

describe('secrets', () => {
  it('a generated password of a public command appears only in an ephemeral follow-up: in no other request, post or log', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'probe-secret', { address: 'gen@example.test' }));
    await h.emulator.until(() => record.followUps.length === 1);
    const password = probeLog.generated.at(-1) as string;
    expect(isEphemeral(record.original?.flags)).toBe(false);
    expect(record.text).toBe('Added gen@example.test');
    expect(record.followUps[0]?.flags).toBe(messageFlags.ephemeral);
    expect(record.followUps[0]?.content).toBe(`**Password for gen@example.test** (shown once, only to you): \`${password}\``);
    const carrying = h.emulator.requestsContaining(password);
    expect(carrying).toHaveLength(1);
    expect(carrying.every((request) => request.message?.ephemeral === true)).toBe(true);
    await h.emulator.until(() => h.auditPosts().some((post) => post.includes('gen@example.test')));
    expect(h.auditPosts().join('\n')).not.toContain(password);
    expect(h.logs.join('')).not.toContain(password);
    expect(h.logs.join('')).toContain('probe: generated a password');
  });

  it('a private command is deferred ephemerally and its result carries the password', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'probe-private', { address: 'p@example.test' }));
    const password = probeLog.generated.at(-1) as string;
    expect(isEphemeral(record.callback?.data?.flags)).toBe(true);
    expect(record.text).toBe(`Added p@example.test.\n**Password** (shown once, only to you): \`${password}\``);
    expect(record.followUps).toEqual([]);
    expect(h.emulator.requestsContaining(password).every((request) => request.message?.ephemeral === true)).toBe(true);
  });

  it('a typed password goes from the modal to the operation and into no request, post or log', async () => {
    const shown = await h.finished(h.emulator.command(h.admin, 'probe-secret', { address: 'typed@example.test', 'type-password': true }));
    expect(shown.callback?.type).toBe(9);
    expect(shown.modal?.custom_id).toMatch(/^mail:secret:/);
    expect(JSON.stringify(shown.modal)).toContain('"min_length":12');
    expect(probeLog.executed).toEqual([]);

    const typed = 'correct horse battery staple';
    const submitted = await h.finished(h.emulator.submitModal(h.admin, shown, { secret: typed }));
    expect(submitted.text).toBe('Password of typed@example.test set\nas typed');
    expect(probeLog.executed).toMatchObject([{ command: 'probe-secret', secret: typed }]);
    expect(h.emulator.requestsContaining(typed)).toEqual([]);
    await h.emulator.until(() => h.auditPosts().some((post) => post.includes('typed@example.test')));
    expect(h.auditPosts().join('\n')).not.toContain(typed);
    expect(h.logs.join('')).not.toContain(typed);
  });

  it('a modal submitted twice runs once', async () => {
    const shown = await h.finished(h.emulator.command(h.admin, 'probe-secret', { address: 'twice@example.test', 'type-password': true }));
    await h.finished(h.emulator.submitModal(h.admin, shown, { secret: 'first password 1' }));
    const second = await h.finished(h.emulator.submitModal(h.admin, shown, { secret: 'second password 2' }));
    expect(second.text).toContain('This form has expired');
    expect(probeLog.executed).toHaveLength(1);
  });
});

describe('autocomplete', () => {
  it('suggests the domains of MAIL_DOMAINS that match what was typed', async () => {
    expect((await h.emulator.autocomplete(h.viewer, 'check', 'domain', '')).choices?.map((choice) => choice.value)).toEqual([
      'example.test',
      'example.org',
    ]);
    expect((await h.emulator.autocomplete(h.admin, 'dkim-rotate', 'domain', 'ORG')).choices).toEqual([
      { name: 'example.org', value: 'example.org' },
    ]);
  });

  it('suggests nothing to a member who may not run the command', async () => {
    expect((await h.emulator.autocomplete(h.stranger, 'check', 'domain', '')).choices).toEqual([]);
    expect((await h.emulator.autocomplete(h.viewer, 'dkim-rotate', 'domain', '')).choices).toEqual([]);
  });

  it('answers in time while a slow source is looked up, shares the lookup, caches it, and forgets it after a change', async () => {
    slowSource.delayMs = 2400;
    const calls = probeLog.suggestionCalls;
    const returned = probeLog.suggestionReturns;
    const [first, second] = await Promise.all([
      h.emulator.autocomplete(h.viewer, 'probe-suggest', 'address', 'alpha'),
      h.emulator.autocomplete(h.viewer, 'probe-suggest', 'address', 'alp'),
    ]);
    for (const record of [first, second]) {
      expect(record.choices).toEqual([]);
      expect((record.callback?.at ?? Infinity) - record.createdAt).toBeLessThan(h.emulator.callbackWindowMs);
    }
    expect(probeLog.suggestionCalls).toBe(calls + 1);
    await h.emulator.until(() => probeLog.suggestionReturns > returned, 5000, 'the shared slow lookup to return (and be cached)');
    slowSource.delayMs = 0;
    const cached = await h.emulator.autocomplete(h.viewer, 'probe-suggest', 'address', 'alpha');
    expect(cached.choices?.map((choice) => choice.value)).toEqual(['alpha@example.test', 'alphabet@example.org']);
    expect(probeLog.suggestionCalls).toBe(calls + 1);

    await h.finished(h.emulator.command(h.admin, 'probe-confirm', { address: 'noask2@example.test' }));
    const fresh = await h.emulator.autocomplete(h.admin, 'probe-private', 'address', 'BET');
    expect(fresh.choices?.map((choice) => choice.value)).toEqual(['beta@example.test', 'alphabet@example.org']);
    expect(probeLog.suggestionCalls).toBe(calls + 2);
  });
});

describe('errors', () => {
  it('a bug in a command becomes a private message; the public reply is removed and the bot carries on', async () => {
    const record = await h.finished(h.emulator.command(h.viewer, 'probe-crash'));
    expect(record.originalDeleted).toBe(true);
    expect(record.followUps[0]?.flags).toBe(messageFlags.ephemeral);
    expect(record.followUps[0]?.content).toContain('❌ Unexpected error: Cannot read properties of undefined');
    expect(h.logs.join('')).toContain('command failed unexpectedly');
    const next = await h.finished(h.emulator.command(h.viewer, 'status'));
    expect(next.text).toContain('running (pid');
  });

  it('an option missing from a hand-made interaction is a private usage error', async () => {
    h.emulator.commands.guild[0]?.options
      ?.find((option) => option.name === 'probe-confirm')
      ?.options?.forEach((option) => {
        option.required = false;
      });
    const record = await h.finished(h.emulator.command(h.admin, 'probe-confirm', {}));
    expect(isEphemeral(record.callback?.data?.flags)).toBe(true);
    expect(record.text).toContain('The option "address" is required.');
  });
});
