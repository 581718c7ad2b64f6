// The command line's contract (README.md, "Commands"): every command listed, exit codes, the --json error shape.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';

// The commands of the public interface (README.md's command table), in its order.
const interfaceCommands = [
  'user-add',
  'passwd',
  'user-remove',
  'users',
  'alias-set',
  'alias-remove',
  'aliases',
  'dkim-rotate',
  'dkim-show',
  'dkim-retire',
  'cert-renew',
  'cert-status',
  'check',
  'dns-diff',
  'status',
  'run-job',
  'start',
];

describe('mailops', () => {
  it('lists every command of the interface in --help', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const name of interfaceCommands) expect(run.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    for (const option of ['--env-file', '--json', '--actor']) expect(run.stdout).toContain(option);
  });

  it('bare `mailops` prints the help on standard error and exits 2 (usage)', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: mailops');
    expect(run.stdout).toBe('');
  });

  it('`mailops <command> --help` lists the global options too', async () => {
    const run = await runCli(['user-add', '--help']);
    expect(run.code).toBe(0);
    for (const option of ['--password-stdin', '--env-file', '--json', '--actor']) expect(run.stdout).toContain(option);
  });

  it('an address that starts with "-" is an invalid address, not an unknown option (exit 2)', async () => {
    const run = await runCli(['user-add', '-rf@example.com', '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"-rf@example.com" is not a valid address or domain: it must not start with "-".');
    expect(JSON.parse(run.stdout).error.message).toBe('"-rf@example.com" is not a valid address or domain: it must not start with "-".');
  });

  it('exits 2 with a usage message for an unknown command, and a JSON error with --json', async () => {
    const run = await runCli(['frobnicate', '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'usage' } });
    expect(run.stderr).toContain('frobnicate');
  });

  it('exits 2 when a required argument is missing', async () => {
    const run = await runCli(['check']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("missing required argument 'domain'");
  });

  it('exits 2 and names the variable when the configuration is malformed', async () => {
    const run = await runCli(['status', '--json'], { env: { MAIL_HOST: 'mail.example.com', MAIL_DOMAINS: 'example.com' } });
    expect(run.code).toBe(2);
    const body = JSON.parse(run.stdout);
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('invalid-configuration');
    expect(body.error.message).toContain('MAIL_HOST');
    expect(body.error.message).toContain('ssh://');
    expect(run.stderr).toContain('MAIL_HOST');
  });

  it('exits 2 and names every missing host setting', async () => {
    const run = await runCli(['status'], { env: { MAIL_HOST: 'ssh://root@mail.example.com' } });
    expect(run.code).toBe(2);
    for (const name of ['SSH_KEY_FILE', 'SSH_KNOWN_HOSTS_FILE', 'MAIL_DOMAINS']) expect(run.stderr).toContain(name);
  });

  it('reads .env from the working directory and --env-file from anywhere', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-cli-env-'));
    writeFileSync(path.join(dir, '.env'), 'MAIL_HOST=broken\n');
    const fromCwd = await runCli(['status'], { cwd: dir });
    expect(fromCwd.code).toBe(2);
    expect(fromCwd.stderr).toContain('MAIL_HOST is not valid "broken"');
    writeFileSync(path.join(dir, 'other.env'), 'MAIL_DOMAINS=bad..domain\n');
    const fromFlag = await runCli(['--env-file', path.join(dir, 'other.env'), 'status'], { cwd: os.tmpdir() });
    expect(fromFlag.stderr).toContain('MAIL_DOMAINS');
  });

  it('exits 2 for a job that does not exist, naming the jobs', async () => {
    const run = await runCli(['run-job', 'frobnicate', '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error.code).toBe('unknown-job');
    expect(run.stderr).toContain('health, cert-watch, dns-drift, dkim-retire');
  });

  it('refuses a malformed --actor', async () => {
    const run = await runCli(['status', '--actor', 'x\ny']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--actor');
  });
});

describe('what the command line loads', () => {
  // Records, on standard error, every package the process resolves that a reading of the help must not need.
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { registerHooks } from 'node:module';
    registerHooks({ resolve(specifier, context, next) {
      if (/^(discord\\.js|@discordjs\\/|mailauth|acme-client)/.test(specifier)) process.stderr.write('resolved ' + specifier + '\\n');
      return next(specifier, context);
    } });`)}`;

  it.each([['--help'], ['check', '--help'], ['run-job', '--help'], ['dkim-rotate', '--help']])(
    'mailops %s loads neither discord.js nor mailauth nor acme-client',
    async (...args) => {
      const run = await runCli(args, { nodeOptions: ['--import', hook] });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: mailops');
      expect(run.stderr).not.toContain('resolved');
    }
  );
});
