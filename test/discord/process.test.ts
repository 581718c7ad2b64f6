// `mailops start` as an operator runs it: a child process with the real CLI, logging in to the emulator, answering
// /mail against the lab, and stopping cleanly on SIGTERM or SIGINT; and the bot's own shutdown, which lets work in
// flight finish before it disconnects.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { repoRoot, startLab, type Lab } from '../lab/lab.ts';
import { DiscordEmulator } from './emulator.ts';
import { startHarness } from './harness.ts';
import { snowflake } from './payloads.ts';
import { probeCommands } from './probe-commands.ts';

/** Established TCP connections from this machine to the lab's sshd. */
function sshConnections(lab: Lab): number {
  return execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${lab.ports.ssh} )`], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

describe('mailops start', () => {
  let lab: Lab;
  let emulator: DiscordEmulator;
  const adminRole = snowflake();
  const channel = snowflake();

  beforeAll(async () => {
    lab = await startLab({ domains: ['example.test'], dns: false });
    emulator = await new DiscordEmulator({
      roles: [{ id: adminRole, name: 'mail-admin' }],
      channels: [{ id: channel, name: 'mail-ops' }],
    }).start();
    const { registerCommands } = await import('../../src/bot/registration.ts');
    const { loadCommands } = await import('../../src/command/catalogue.ts');
    const { parseConfig } = await import('../../src/config.ts');
    await registerCommands(parseConfig(emulator.env), await loadCommands());
  });

  afterAll(async () => {
    await emulator?.stop();
    await lab?.stop();
  });

  function startBotProcess(node = process.execPath): {
    child: ChildProcess;
    output: { stdout: string; stderr: string };
    exited: Promise<number | null>;
  } {
    const child = spawn(node, ['--', path.join(repoRoot, 'bin/mailops.js'), 'start'], {
      cwd: lab.dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        ...lab.env,
        ...emulator.env,
        LOG_LEVEL: 'info',
        DISCORD_ADMIN_ROLE_IDS: adminRole,
        ALERT_CHANNEL_ID: channel,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    child.stdout?.on('data', (chunk: Buffer) => {
      output.stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output.stderr += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, output, exited };
  }

  it('names every missing Discord setting and exits 2', async () => {
    const run = await runCli(['start'], { env: lab.env });
    expect(run.code).toBe(2);
    for (const name of ['DISCORD_TOKEN', 'DISCORD_APPLICATION_ID', 'DISCORD_ADMIN_ROLE_IDS', 'ALERT_CHANNEL_ID'])
      expect(run.stderr).toContain(name);
  });

  it('says what to check when Discord refuses the token, and exits 1', async () => {
    const run = await runCli(['start'], {
      env: {
        ...lab.env,
        ...emulator.env,
        DISCORD_TOKEN: 'wrong.token.for.this.bot.xyz',
        DISCORD_ADMIN_ROLE_IDS: adminRole,
        ALERT_CHANNEL_ID: channel,
      },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Could not connect to Discord: An invalid token was provided.');
    expect(run.stderr).toContain('Check DISCORD_TOKEN');
    expect(run.stderr).not.toContain('wrong.token.for.this.bot.xyz');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('answers /mail status, and on %s disconnects, closes SSH and exits 0', async (signal) => {
    const { child, output, exited } = startBotProcess();
    const admin = emulator.addMember(`admin-${signal}`, [adminRole]);
    try {
      await emulator.until(() => output.stderr.includes('connected to Discord'), 20_000, 'the bot to log in');
      const record = emulator.command(admin, 'status');
      await emulator.until(() => record.text.includes('running (pid'), 10_000, 'the status reply');
      expect(sshConnections(lab)).toBe(1);
      const closes = emulator.gateway.record.closeCodes.length;
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(output.stdout).toBe(`mailops bot stopped (${signal})\n`);
      expect(output.stderr).toContain('disconnected from Discord');
      expect(output.stderr).not.toMatch(/"level":(50|60)/);
      expect(emulator.gateway.record.closeCodes.slice(closes)).toEqual([1000]);
      expect(sshConnections(lab)).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("started by the system's older Node.js, hands over to Node.js 24 and passes SIGTERM on to it", async () => {
    // The machines mailops is set up on have Node.js 20 as /usr/bin/node (see the README).
    const systemNode = '/usr/bin/node';
    expect(existsSync(systemNode)).toBe(true);
    const { child, output, exited } = startBotProcess(systemNode);
    try {
      await emulator.until(() => output.stderr.includes('connected to Discord'), 20_000, 'the bot to log in');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.stdout).toBe('mailops bot stopped (SIGTERM)\n');
      expect(sshConnections(lab)).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('the bot stopping', () => {
  it('lets an interaction in flight finish, then disconnects; closing the runtime closes SSH', async () => {
    const h = await startHarness({ extraCommands: probeCommands });
    try {
      await h.finished(h.emulator.command(h.admin, 'status'));
      expect(sshConnections(h.lab)).toBe(1);
      const record = h.emulator.command(h.viewer, 'probe-progress', { steps: '2', 'step-ms': '1100' });
      await h.emulator.until(() => record.text.startsWith('⏳ Step 1'), 5000);
      await h.bot.stop();
      expect(record.original?.embeds).toEqual([{ title: 'Done', description: '2 steps' }]);
      expect(h.emulator.gateway.record.closeCodes).toEqual([1000]);
      await h.runtime.close();
      expect(sshConnections(h.lab)).toBe(0);
    } finally {
      await h.stop();
    }
  });
});
