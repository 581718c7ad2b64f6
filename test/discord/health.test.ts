// /healthz and /metrics of `mailops start`, as a monitoring agent sees them: the real bot process, the emulator and
// the lab, asked over HTTP on HTTP_LISTEN.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, repoRoot, startLab, type Lab } from '../lab/lab.ts';
import { waitFor } from '../wait.ts';
import { DiscordEmulator } from './emulator.ts';
import { snowflake } from './payloads.ts';

describe('the health endpoint', () => {
  let lab: Lab;
  let emulator: DiscordEmulator;
  let child: ChildProcess;
  let base: string;
  let stderr = '';
  const adminRole = snowflake();
  const viewerRole = snowflake();
  const channel = snowflake();

  beforeAll(async () => {
    lab = await startLab({ domains: ['example.test'], dns: false });
    emulator = await new DiscordEmulator({
      roles: [
        { id: adminRole, name: 'mail-admin' },
        { id: viewerRole, name: 'mail-viewer' },
      ],
      channels: [{ id: channel, name: 'mail-ops' }],
    }).start();
    const { registerCommands } = await import('../../src/bot/registration.ts');
    const { loadCommands } = await import('../../src/command/catalogue.ts');
    const { parseConfig } = await import('../../src/config.ts');
    await registerCommands(parseConfig(emulator.env), await loadCommands());
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['--', path.join(repoRoot, 'bin/mailops.js'), 'start'], {
      cwd: lab.dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        ...lab.env,
        ...emulator.env,
        DISCORD_ADMIN_ROLE_IDS: adminRole,
        DISCORD_VIEWER_ROLE_IDS: viewerRole,
        ALERT_CHANNEL_ID: channel,
        HTTP_LISTEN: `127.0.0.1:${port}`,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    await emulator.until(
      () => stderr.includes('connected to Discord') && stderr.includes('health endpoint listening'),
      20_000,
      'the bot to log in'
    );
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await emulator?.stop();
    await lab?.stop();
  });

  it('is healthy while the bot is connected and the state database takes writes', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { healthy: boolean; discord: { connected: boolean }; database: { writable: boolean } };
    expect(body).toMatchObject({ healthy: true, discord: { connected: true }, database: { writable: true } });
    // The scheduler's part: no job has run yet in this fresh state database, and nothing waits in the outbox.
    expect(body).toMatchObject({ jobs: {}, outbox: { waiting: 0 } });
  });

  it('counts commands by name and outcome, with their durations', async () => {
    const admin = emulator.addMember('alice', [adminRole]);
    const stranger = emulator.addMember('mallory', []);
    const done = emulator.command(admin, 'status');
    await emulator.until(() => done.text.includes('running (pid'), 10_000, 'the status reply');
    const refused = emulator.command(stranger, 'user-add', { address: 'x@example.test' });
    await emulator.until(() => refused.text.includes('⛔'), 10_000, 'the refusal');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^mailops_commands_total\{command="status",outcome="ok"\} 1$/m);
    expect(metrics).toMatch(/^mailops_commands_total\{command="user-add",outcome="refused"\} 1$/m);
    expect(metrics).toMatch(/^mailops_command_duration_seconds_count\{command="status"\} 1$/m);
    expect(metrics).toMatch(/^mailops_process_resident_memory_bytes [0-9.e+]+$/m);
    expect(metrics).toMatch(/^mailops_alert_outbox_messages 0$/m);
  });

  it('answers only /healthz and /metrics, and only to GET', async () => {
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('turns unhealthy when Discord is gone, and the bot still stops cleanly', async () => {
    await emulator.stop();
    const response = await waitFor(
      '/healthz to turn unhealthy',
      async () => {
        const answer = await fetch(`${base}/healthz`);
        return answer.status === 200 ? undefined : answer;
      },
      { intervalMs: 200 }
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ healthy: false, discord: { connected: false } });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
