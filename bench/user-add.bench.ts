// /mail user-add through Discord (the emulator) against the lab, warm, next to what it replaces: a fresh OpenSSH
// connection running `chasquid-util user-add` (the password typed at its prompt, as a person would), measured in the
// same run, alternating. Prints both medians, their ratio (target: at most 0.30) and the bot's resident memory
// after start-up. The bot is the real `mailops start` process.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerCommands } from '../src/bot/registration.ts';
import { loadCommands } from '../src/command/catalogue.ts';
import { parseConfig } from '../src/config.ts';
import { DiscordEmulator } from '../test/discord/emulator.ts';
import { settled } from '../test/discord/harness.ts';
import { snowflake } from '../test/discord/payloads.ts';
import { repoRoot, startLab } from '../test/lab/lab.ts';

const runs = 21;
const target = 0.3;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

function residentMegabytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

/** One `ssh … chasquid-util user-add` over a fresh connection, with the password typed at the prompts. */
function sshUserAdd(env: Record<string, string>, port: number, address: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ssh',
      [
        '-tt',
        '-q',
        '-i',
        env.SSH_KEY_FILE as string,
        '-o',
        `UserKnownHostsFile=${env.SSH_KNOWN_HOSTS_FILE}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-p',
        String(port),
        'root@127.0.0.1',
        'chasquid-util',
        `-C=${env.CHASQUID_DIR}`,
        'user-add',
        address,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] }
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stdin.end('bench-password-1234\nbench-password-1234\n');
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || !output.includes('Added user')) reject(new Error(`ssh chasquid-util user-add failed (${code}): ${output}`));
      else resolve(performance.now() - started);
    });
  });
}

const lab = await startLab({ chasquid: '1.15', domains: ['example.test'], dns: false });
const adminRole = snowflake();
const channel = snowflake();
const emulator = await new DiscordEmulator({
  roles: [{ id: adminRole, name: 'mail-admin' }],
  channels: [{ id: channel, name: 'mail-ops' }],
}).start();
const admin = emulator.addMember('bench', [adminRole]);
await registerCommands(parseConfig(emulator.env), await loadCommands());
// Started as `npm start` and the systemd unit start it (the same Node.js flags).
const bot = spawn(process.execPath, ['--max-semi-space-size=2', '--', path.join(repoRoot, 'bin/mailops.js'), 'start'], {
  cwd: lab.dir,
  env: {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...lab.env,
    ...emulator.env,
    LOG_LEVEL: 'warn',
    DISCORD_ADMIN_ROLE_IDS: adminRole,
    ALERT_CHANNEL_ID: channel,
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});

try {
  await emulator.until(() => emulator.gateway.record.identifies === 1 && emulator.gateway.connected, 30_000, 'the bot to log in');
  await sleep(1000);
  const rss = residentMegabytes(bot.pid as number);

  const viaDiscord = async (address: string) => {
    const started = performance.now();
    const record = emulator.command(admin, 'user-add', { address });
    await emulator.until(() => settled(record), 20_000, `user-add ${address}`);
    if (!record.text.includes(`Added sender ${address}`)) throw new Error(`user-add ${address} did not succeed: ${record.text}`);
    return performance.now() - started;
  };

  await viaDiscord('warm-up@example.test');
  const discord: number[] = [];
  const ssh: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    discord.push(await viaDiscord(`bot-${run}@example.test`));
    ssh.push(await sshUserAdd(lab.env, lab.ports.ssh, `ssh-${run}@example.test`));
  }
  const ratio = median(discord) / median(ssh);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  process.stdout.write(
    [
      `/mail user-add via Discord, warm   median ${ms(median(discord))}  (min ${ms(Math.min(...discord))}, max ${ms(Math.max(...discord))}, n=${runs})`,
      `ssh + chasquid-util user-add       median ${ms(median(ssh))}  (min ${ms(Math.min(...ssh))}, max ${ms(Math.max(...ssh))}, n=${runs})`,
      `ratio                              ${ratio.toFixed(2)}  (target ≤ ${target.toFixed(2)}: ${ratio <= target ? 'met' : 'NOT MET'})`,
      `bot resident memory after start    ${rss.toFixed(1)} MB`,
      '',
    ].join('\n')
  );
} finally {
  bot.kill('SIGTERM');
  await new Promise((resolve) => bot.once('exit', resolve));
  await emulator.stop();
  await lab.stop();
}
