// Roles count at the moment of every press, not only when the command was run: a member whose admin role was taken
// away while a question, a button or a form was waiting cannot answer it. Through the real discord.js client and the
// emulator, whose interactions carry the member's roles as Discord sends them.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditEntries } from '../../src/store/audit.ts';
import { buttonIds, messageText, type InteractionRecord } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import { isEphemeral, type EmulatedUser } from './payloads.ts';
import { probeCommands, probeLog } from './probe-commands.ts';

let h: Harness;
/** An admin of the tests in this file, whose roles the tests change. */
let carol: EmulatedUser;

beforeAll(async () => {
  h = await startHarness({ extraCommands: probeCommands, pressTimeoutMs: 8000 });
  carol = h.emulator.addMember('carol', [h.roles.admin]);
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => {
  probeLog.executed.length = 0;
  probeLog.pressSteps.length = 0;
  h.emulator.setRoles(carol, [h.roles.admin]);
});

const refusal = '/mail probe-confirm changes the mail server and needs a mailops admin role. Ask a server admin for it.';

async function question(address: string): Promise<InteractionRecord> {
  const record = await h.finished(h.emulator.command(carol, 'probe-confirm', { address }));
  expect(record.text).toContain(`Really change **${address}**?`);
  return record;
}

/** The refusal was recorded in the audit trail and posted to the audit channel. */
async function auditedRefusal(operation: string, target: string): Promise<void> {
  expect(auditEntries(h.runtime.database())[0]).toMatchObject({
    actor: `discord:${carol.id}(carol)`,
    operation,
    target,
    outcome: 'refused',
    detail: 'no admin role at press time',
  });
  await h.emulator.until(() =>
    h.auditPosts().includes(`⛔ <@${carol.id}> \`/mail ${operation}\` \`${target}\`: refused (no admin role at press time)`)
  );
}

describe("Confirm and Cancel check the member's roles when pressed", () => {
  it('a member whose admin role was removed after running the command cannot confirm it; the question closes', async () => {
    const record = await question('gone@example.test');
    const [confirm] = buttonIds(record.original);
    h.emulator.setRoles(carol, []);
    const press = await h.finished(h.emulator.press(carol, record.original, confirm as string));
    expect(press.callback?.type).toBe(7);
    expect(record.text).toContain(`⛔ ${refusal} Nothing was changed.`);
    expect(buttonIds(record.original)).toEqual([]);
    expect(probeLog.executed).toEqual([]);
    await auditedRefusal('probe-confirm', 'gone@example.test');
  });

  it('a member moved from the admin role to the viewer role cannot confirm either', async () => {
    const record = await question('viewer@example.test');
    h.emulator.setRoles(carol, [h.roles.viewer]);
    await h.finished(h.emulator.press(carol, record.original, buttonIds(record.original)[0] as string));
    expect(record.text).toContain(`⛔ ${refusal}`);
    expect(probeLog.executed).toEqual([]);
  });

  it('Cancel is refused the same way, and nothing runs', async () => {
    const record = await question('cancel@example.test');
    h.emulator.setRoles(carol, []);
    await h.finished(h.emulator.press(carol, record.original, buttonIds(record.original)[1] as string));
    expect(record.text).toContain(`⛔ ${refusal} Nothing was changed.`);
    expect(record.text).not.toContain('Cancelled');
    expect(probeLog.executed).toEqual([]);
  });

  it('the same member, still an admin at press time, confirms as before', async () => {
    const record = await question('kept@example.test');
    await h.finished(h.emulator.press(carol, record.original, buttonIds(record.original)[0] as string));
    expect(record.original?.content).toBe('Changed kept@example.test.');
    expect(probeLog.executed).toMatchObject([{ command: 'probe-confirm', actor: `discord:${carol.id}(carol)` }]);
  });
});

describe("a button waited for during a command checks the member's roles when pressed", () => {
  const published = (record: InteractionRecord) => buttonIds(record.original).find((id) => id.startsWith('mail:press:'));

  it('"Published" pressed by a member who lost the admin role is refused privately; the work is put back and fails', async () => {
    const record = h.emulator.command(carol, 'probe-press', { address: 'late@example.test' });
    await h.emulator.until(() => published(record) !== undefined, 8000, 'the Published button');
    h.emulator.setRoles(carol, []);
    const press = await h.finished(h.emulator.press(carol, record.original, published(record) as string));
    expect(isEphemeral(press.callback?.data?.flags)).toBe(true);
    expect(messageText(press.original!)).toBe(
      '⛔ /mail probe-press changes the mail server and needs a mailops admin role. Ask a server admin for it.'
    );
    // The public reply with the button goes; the failure follows privately, as when nobody presses in time.
    await h.emulator.until(() => record.originalDeleted && record.followUps.length > 0, 8000, 'the failure');
    expect(probeLog.pressSteps).toEqual(['started', 'put back']);
    expect(record.followUps[0]?.content).toBe(
      '❌ "Published" was pressed by a member who may no longer run /mail probe-press.\n' +
        'Ask a server admin for the mailops admin role, then run the command again.'
    );
    await auditedRefusal('probe-press', 'late@example.test');
    await h.emulator.until(() =>
      h.auditPosts().includes(`❌ <@${carol.id}> \`/mail probe-press\` \`late@example.test\`: failed (no-role-at-press)`)
    );
  });

  it('"Published" pressed by the member who is still an admin lets the work go on', async () => {
    const record = h.emulator.command(carol, 'probe-press', { address: 'on@example.test' });
    await h.emulator.until(() => published(record) !== undefined, 8000, 'the Published button');
    const press = await h.finished(h.emulator.press(carol, record.original, published(record) as string));
    expect(press.callback?.type).toBe(7);
    await h.emulator.until(() => probeLog.pressSteps.includes('pressed'), 8000, 'the work to go on');
    expect(probeLog.pressSteps).toEqual(['started', 'pressed']);
  });
});

describe("the password form checks the member's roles when submitted", () => {
  it('a member whose admin role was removed while the form was open is refused, and nothing runs', async () => {
    const shown = await h.finished(h.emulator.command(carol, 'probe-secret', { address: 'form@example.test', 'type-password': true }));
    expect(shown.callback?.type).toBe(9);
    h.emulator.setRoles(carol, []);
    const submitted = await h.finished(h.emulator.submitModal(carol, shown, { secret: 'a-typed-passphrase-42' }));
    expect(isEphemeral(submitted.callback?.data?.flags)).toBe(true);
    expect(submitted.text).toBe('⛔ /mail probe-secret changes the mail server and needs a mailops admin role. Ask a server admin for it.');
    expect(probeLog.executed).toEqual([]);
    expect(auditEntries(h.runtime.database())[0]).toMatchObject({
      actor: `discord:${carol.id}(carol)`,
      operation: 'probe-secret',
      outcome: 'refused',
    });
  });
});
