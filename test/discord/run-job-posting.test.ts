// `mailops run-job` with the Discord channels configured and no bot running: it posts what its run queued itself —
// over Node's fetch, never loading discord.js — rendered as the bot renders it, with the outbox's nonce; without a
// token it leaves the messages to the bot.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { DiscordEmulator } from './emulator.ts';
import { snowflake } from './payloads.ts';

describe('run-job without a running bot', () => {
  let lab: Lab;
  let emulator: DiscordEmulator;
  const channel = snowflake();

  beforeAll(async () => {
    lab = await startLab({ domains: ['example.test'] });
    emulator = await new DiscordEmulator({ channels: [{ id: channel, name: 'mail-ops' }] }).start();
  });

  afterAll(async () => {
    await emulator?.stop();
    await lab?.stop();
  });

  it('without DISCORD_TOKEN queues the health report for the bot and posts nothing', async () => {
    const run = await runCli(['run-job', 'health', '--json'], { cwd: lab.dir, env: { ...lab.env, ALERT_CHANNEL_ID: channel } });
    const result = JSON.parse(run.stdout) as { queued: number; delivered: number };
    expect(result.queued).toBeGreaterThanOrEqual(1);
    expect(result.delivered).toBe(0);
    expect(emulator.messagesIn(channel)).toHaveLength(0);
  });

  it('with DISCORD_TOKEN posts what waits in the outbox, the health report as the bot renders it', async () => {
    const run = await runCli(['run-job', 'health'], { cwd: lab.dir, env: { ...lab.env, ...emulator.env, ALERT_CHANNEL_ID: channel } });
    // The report queued by the run before and this run's report: both wait, both are posted now, each once.
    expect(run.stdout).toMatch(/Posted 2 message\(s\) to Discord\.$/m);
    const posted = emulator.messagesIn(channel);
    expect(posted).toHaveLength(2);
    const requests = emulator.requests.filter((request) => request.method === 'POST' && request.path === `/channels/${channel}/messages`);
    expect(
      requests.every(
        (request) =>
          request.authorization === `Bot ${emulator.token}` && (request.body as { enforce_nonce?: boolean }).enforce_nonce === true
      )
    ).toBe(true);
    expect(JSON.stringify(posted[0])).toContain('example.test');
    const again = await runCli(['run-job', 'health', '--json'], {
      cwd: lab.dir,
      env: { ...lab.env, ...emulator.env, ALERT_CHANNEL_ID: channel },
    });
    expect(JSON.parse(again.stdout)).toMatchObject({ queued: 1, delivered: 1 });
    expect(emulator.messagesIn(channel)).toHaveLength(3);
  });
});
