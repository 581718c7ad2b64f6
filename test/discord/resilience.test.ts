// The bot keeps working whatever Discord does: a dropped or silent gateway connection is resumed, and a malformed
// interaction, an unknown command, an answer that comes too late, an expired token or a REST error never crash it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCommand } from '../../src/command/definition.ts';
import { buttonIds } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import { messageFlags } from './payloads.ts';
import { probeCommands, probeLog } from './probe-commands.ts';

let h: Harness;

const ghost = defineCommand({
  name: 'ghost',
  description: 'registered, but unknown to this bot',
  access: 'read',
  options: {},
  run: () => Promise.resolve({}),
  render: { text: () => '', discord: () => ({ content: 'never run' }) },
});

beforeAll(async () => {
  h = await startHarness({ extraCommands: probeCommands, unknownCommands: [ghost] });
});

afterAll(async () => {
  await h?.stop();
});

async function statusWorks(): Promise<void> {
  const record = await h.finished(h.emulator.command(h.admin, 'status'), 10_000);
  expect(record.text).toContain(`running (pid ${h.lab.chasquidPid()} as chasquid)`);
}

const logged = (text: string) => h.logs.join('').includes(text);

describe('the gateway connection', () => {
  it('a dropped connection is resumed on the resume URL, and the next command works', async () => {
    const { resumes, identifies } = h.emulator.gateway.record;
    h.emulator.gateway.dropConnections();
    await h.emulator.until(() => h.emulator.gateway.record.resumes === resumes + 1, 10_000, 'RESUME');
    const resume = h.emulator.gateway.record.received.filter((payload) => payload.op === 6).at(-1);
    expect(resume?.path).toBe('/resume');
    expect(resume?.d).toMatchObject({ token: h.emulator.token, seq: expect.any(Number), session_id: expect.any(String) });
    expect(h.emulator.gateway.record.identifies).toBe(identifies);
    await statusWorks();
  });

  it('an interaction sent while the connection is down is replayed after the resume and answered', async () => {
    h.emulator.gateway.dropConnections();
    const record = h.emulator.command(h.admin, 'status');
    await h.finished(record, 10_000);
    expect(record.text).toContain('running (pid');
  });

  it('a connection whose heartbeats go unacknowledged is replaced and resumed', async () => {
    const { resumes } = h.emulator.gateway.record;
    h.emulator.gateway.acknowledgeHeartbeats = false;
    try {
      await h.emulator.until(() => h.emulator.gateway.record.resumes > resumes, 10_000, 'RESUME after missed heartbeat ACKs');
    } finally {
      h.emulator.gateway.acknowledgeHeartbeats = true;
    }
    await statusWorks();
  });

  it('a reconnect request (op 7) is followed', async () => {
    const { resumes } = h.emulator.gateway.record;
    h.emulator.gateway.requestReconnect();
    await h.emulator.until(() => h.emulator.gateway.record.resumes > resumes, 10_000, 'RESUME after op 7');
    await statusWorks();
  });
});

describe('bad input from Discord', () => {
  it('survives malformed interactions and unknown interaction types', async () => {
    h.emulator.dispatchRaw('INTERACTION_CREATE', { id: '1', type: 2, application_id: h.emulator.applicationId });
    h.emulator.dispatchRaw('INTERACTION_CREATE', { id: '2', type: 99, token: 'x', application_id: h.emulator.applicationId, version: 1 });
    h.emulator.dispatchRaw('INTERACTION_CREATE', null);
    h.emulator.dispatchRaw('SOMETHING_NEW', { hello: 'world' });
    await statusWorks();
    expect(h.logs.join('').match(/ignored a malformed interaction/g)).toHaveLength(3);
  });

  it('answers an unknown subcommand privately, naming the fix', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'ghost'));
    expect(record.callback?.type).toBe(4);
    expect(record.callback?.data?.flags).toBe(messageFlags.ephemeral);
    expect(record.text).toBe(
      '❌ mailops does not know /mail ghost. The registered commands do not match this version of the bot: run `npm run register`.'
    );
  });

  it('answers a button it does not know privately', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'probe-confirm', { address: 'btn@example.test' }));
    const foreign = structuredClone(record.original!);
    (foreign.components[0] as { components: Array<{ custom_id: string }> }).components[0]!.custom_id = 'someone-else:1';
    const press = await h.finished(h.emulator.press(h.admin, foreign, 'someone-else:1'));
    expect(press.callback?.data?.flags).toBe(messageFlags.ephemeral);
    expect(press.text).toBe('This button is not in use any more.');
    await h.finished(h.emulator.press(h.admin, record.original, buttonIds(record.original)[1] as string));
  });
});

describe('Discord errors', () => {
  it('an interaction past its 3 seconds is refused by Discord (10062): nothing runs, the bot logs it and carries on', async () => {
    const executed = probeLog.executed.length;
    const record = h.emulator.command(h.admin, 'probe-confirm', { address: 'noask-late@example.test' }, { ageMs: 3500 });
    await h.emulator.until(() => record.rejectedCallbacks.length > 0);
    expect(record.rejectedCallbacks.map((rejected) => rejected.code)).toEqual([10062]);
    await h.emulator.until(() => logged('Unknown interaction'));
    expect(probeLog.executed.length).toBe(executed);
    await statusWorks();
  });

  it('a second acknowledgement is refused by Discord (40060)', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'status'));
    const response = await fetch(`${h.emulator.apiUrl}/v10/interactions/${record.id}/${record.token}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 5 }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 40060, message: 'Interaction has already been acknowledged.' });
  });

  it('an expired interaction token (50027) while editing is logged, and the bot carries on', async () => {
    const record = h.emulator.command(h.viewer, 'probe-progress', { steps: '2', 'step-ms': '1100' });
    await h.emulator.until(() => record.callback !== undefined);
    h.emulator.expire(record);
    await h.emulator.until(() => logged('Invalid Webhook Token'), 5000);
    await statusWorks();
  });

  it('a REST error on the result edit is logged, and the next command works', async () => {
    h.emulator.failNext('PATCH', /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/, 403, 50013, 'Missing Permissions');
    const record = h.emulator.command(h.admin, 'status');
    await h.emulator.until(() => logged('Missing Permissions'));
    expect(record.original?.flags).toBe(messageFlags.loading);
    await statusWorks();
  });

  it('a change completes when the audit channel cannot be posted to', async () => {
    h.emulator.failNext('POST', /^\/channels\/\d+\/messages$/, 403, 50001, 'Missing Access');
    const record = await h.finished(h.emulator.command(h.admin, 'probe-confirm', { address: 'noask-audit@example.test' }));
    expect(record.text).toBe('Changed noask-audit@example.test.');
    await h.emulator.until(() => logged('could not post to the audit channel'));
  });

  it('the confirmation buttons expire after 60 seconds by default', async () => {
    const record = await h.finished(h.emulator.command(h.admin, 'probe-confirm', { address: 'sixty@example.test' }));
    const expires = Number(/<t:(\d+):R>/.exec(record.text)?.[1]) * 1000;
    expect(expires - record.createdAt).toBeGreaterThan(59_000);
    expect(expires - record.createdAt).toBeLessThan(62_000);
    await h.finished(h.emulator.press(h.admin, record.original, buttonIds(record.original)[1] as string));
  });

  it('the emulator itself saw no internal errors', () => {
    expect(h.emulator.emulatorErrors).toEqual([]);
  });
});
