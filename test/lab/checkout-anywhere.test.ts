// The lab does not depend on where the checkout lies: a copy of the checkout under a directory only root may enter
// (as root's home is) runs `npm run lab`, and the commands it prints work — a sender is added, mail to it is
// delivered where the lab says, and deploy/host-setup.sh's restricted user works against it end to end.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../wait.ts';
import { repoRoot } from './lab.ts';

/** Copies the checkout's files (as they are now, tracked or new, not ignored) to `target`. */
function copyCheckout(target: string): void {
  const files = execFileSync('git', ['-C', repoRoot, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && existsSync(path.join(repoRoot, file)));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    copyFileSync(path.join(repoRoot, file), path.join(target, file));
    chmodSync(path.join(target, file), statSync(path.join(repoRoot, file)).mode & 0o777);
  }
  // The installed packages, as `npm ci` would have put them there.
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(target, 'node_modules'));
}

/** Runs a shell command line the lab printed, from the checkout, as a reader at a root shell would (npx included). */
function runPrinted(
  line: string,
  checkout: string,
  env: Record<string, string> = {}
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', line], {
    cwd: checkout,
    encoding: 'utf8',
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: checkout,
      npm_config_update_notifier: 'false',
      ...env,
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the lab started from a checkout that only root can enter', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'mailops-root-home-'));
  const checkout = path.join(home, 'mailops');
  const hostUser = `mailops-c${randomBytes(3).toString('hex')}`;
  let lab: ChildProcess;
  let printed = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    chmodSync(home, 0o700);
    copyCheckout(checkout);
    // `npm run lab` (run.ts is what it runs) from the copy.
    lab = spawn(process.execPath, ['--', 'test/lab/run.ts'], {
      cwd: checkout,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MAILOPS_LAB_KEEP: '' },
    });
    let stderr = '';
    lab.stdout!.on('data', (chunk: Buffer) => {
      printed += chunk.toString('utf8');
    });
    lab.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    exited = new Promise((resolve) => lab.on('exit', (code) => resolve(code)));
    await waitFor(
      'npm run lab to print its commands',
      () => {
        if (lab.exitCode !== null) throw new Error(`npm run lab exited ${lab.exitCode}:\n${stderr}`);
        return printed.includes('Press Ctrl-C');
      },
      { timeoutMs: 30_000, intervalMs: 50, diagnostics: () => `${printed}\n${stderr}` }
    );
  }, 40_000);

  afterAll(async () => {
    spawnSync('sh', [path.join(repoRoot, 'deploy/host-setup.sh'), '--user', hostUser, '--remove'], { stdio: 'ignore' });
    if (lab?.exitCode === null) {
      lab.kill('SIGINT');
      await exited;
    }
    rmSync(home, { recursive: true, force: true });
  });

  const printedLine = (pattern: RegExp) => {
    const line = printed.split('\n').find((candidate) => pattern.test(candidate.trim()));
    expect(line, `a line matching ${pattern} in:\n${printed}`).toBeDefined();
    return line!.trim();
  };

  it('the checkout lies where other users cannot enter', () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
  });

  it('runs the printed commands: a sender is added, and mail to it lands where the lab says', async () => {
    const status = runPrinted(`${printedLine(/^npx mailops -- .* status$/)} --json`, checkout);
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout).service.running).toBe(true);
    const added = runPrinted(printedLine(/^npx mailops -- .* user-add alice@example\.test$/), checkout);
    expect(added.code).toBe(0);
    // chasquid reads its users file again every second in the lab: until then it refuses the new sender as recipient.
    const swaks = `${printedLine(/^swaks /)} --header 'Subject: from a closed home' --silent 2`;
    let refusal = '';
    const delivered = await waitFor(
      'chasquid to accept mail to alice@example.test (after reloading its users file)',
      () => {
        const attempt = runPrinted(swaks, checkout);
        refusal = attempt.stderr;
        return attempt.code === 0 ? attempt : undefined;
      },
      { timeoutMs: 8000, intervalMs: 250, diagnostics: () => refusal }
    );
    expect(delivered.stderr).toBe('');
    expect(delivered.code).toBe(0);
    const mailDir = /^Delivered mail: (\S+)\/<recipient>\/<time>\.eml/m.exec(printed)?.[1];
    expect(mailDir).toBeDefined();
    const inbox = path.join(mailDir!, 'alice@example.test');
    await waitFor(`a message delivered to ${inbox}`, () => existsSync(inbox) && readdirSync(inbox).some((file) => file.endsWith('.eml')), {
      intervalMs: 50,
    });
    const messages = readdirSync(inbox).filter((file) => file.endsWith('.eml'));
    expect(messages.map((file) => readFileSync(path.join(inbox, file), 'utf8')).join('')).toContain('Subject: from a closed home');
  });

  it('sets up the restricted host user with the printed host-setup.sh command, and mailops works through it', () => {
    const setup = runPrinted(
      printed
        .split('\n')
        .filter(
          (line, index, lines) =>
            /^\s+sh deploy\/host-setup\.sh --user \S+ --key-file/.test(line) ||
            (index > 0 && lines[index - 1]!.trimEnd().endsWith('\\') && /--restart/.test(line))
        )
        .join('\n')
        .replace('--user mailops-lab ', `--user ${hostUser} `),
      checkout
    );
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
    const status = runPrinted(
      `${printedLine(/^MAIL_HOST=ssh:\/\/mailops-lab@/).replace('ssh://mailops-lab@', `ssh://${hostUser}@`)} --json`,
      checkout
    );
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout)).toMatchObject({ service: { running: true }, domains: ['example.test'] });
  });

  it('stops on Ctrl-C and removes its directory', async () => {
    const settings = /^Its settings: (\S+)$/m.exec(printed)?.[1];
    expect(settings).toBeDefined();
    expect(existsSync(settings!)).toBe(true);
    lab.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(path.dirname(settings!))).toBe(false);
  });
});
