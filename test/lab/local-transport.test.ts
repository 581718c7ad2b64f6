// MAIL_HOST=local: mailops on the mail host itself, calling mailops-host without SSH — as root (the project's script,
// run by /bin/sh) and as the restricted user of deploy/host-setup.sh (the installed copy, through its sudo rule).
// Judged by what the mail system does (SMTP AUTH, delivered mail, the files) and by the process list, which every
// user of the machine can read: an upload travels on standard input, never in an argument.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { MailopsError } from '../../src/errors.ts';
import { helperSource } from '../../src/host/host-program.ts';
import { mailHostFromConfig, type MailHost } from '../../src/host/mail-host.ts';
import { createLogger, Redactor } from '../../src/log.ts';
import { runCli, type CliRun } from '../cli.ts';
import { deliver, waitForAuthentication, waitForDelivery } from '../smtp.ts';
import { enclosingDirectoryClosedToOthers, repoRoot, startLab, type Lab } from './lab.ts';

const logger = createLogger({ level: 'silent', redactor: new Redactor() });
const setupScript = path.join(repoRoot, 'deploy/host-setup.sh');

let lab: Lab;
const hosts: MailHost[] = [];

function newHost(): MailHost {
  const host = mailHostFromConfig(parseConfig(lab.env), logger);
  hosts.push(host);
  return host;
}

async function waitUntil<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Delivers once chasquid knows the new address: it reloads aliases every second in the lab, refusing it (550) until then. */
async function deliverAfterReload(from: string, to: string, subject: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      return await deliver(lab, from, to, subject);
    } catch (error) {
      if (!/\b550\b/.test(String(error)) || Date.now() - started > 10_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

interface ProcessSeen {
  pid: number;
  argv: string[];
}

/** Every process's argument vector, as any user can read it in /proc. */
function processList(): ProcessSeen[] {
  const seen: ProcessSeen[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.at(-1) === '') argv.pop();
      if (argv.length > 0) seen.push({ pid: Number(entry), argv });
    } catch {
      // The process ended while we looked.
    }
  }
  return seen;
}

/** An argument as it reads and, when it is base64 (restricted mode's words), decoded too. */
const readings = (argument: string) =>
  /^[A-Za-z0-9+/]+=*$/.test(argument) ? [argument, Buffer.from(argument, 'base64').toString('utf8')] : [argument];

/** The words a mailops-host process was given, decoded in restricted mode. */
function wordsOf(seen: ProcessSeen): string[] | undefined {
  const encoded = seen.argv.indexOf('--encoded');
  if (encoded >= 0) return seen.argv.slice(encoded + 1).map((word) => Buffer.from(word, 'base64').toString('utf8'));
  const named = seen.argv.indexOf('mailops-host');
  return seen.argv[0] === '/bin/sh' && seen.argv[1] === '-c' && named === 3 ? seen.argv.slice(4) : undefined;
}

/** Holds the lock mailops-host takes to look at or change its state (.mailops-state), until released. */
async function holdStateLock(): Promise<() => Promise<void>> {
  const holder = spawn('flock', [path.join(lab.chasquidDir, '.mailops-state'), '-c', 'echo held; exec cat > /dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  await new Promise((resolve) => holder.stdout.once('data', resolve));
  return async () => {
    holder.stdin.end();
    await exited;
  };
}

/** A private key: the kind of upload that must never be visible to other users. */
function secretKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A new certificate directory of mailops's (certs/<name>/), where a private key may be written. */
function keyFile(): string {
  const dir = path.join(lab.chasquidDir, 'certs', `upload-${randomBytes(4).toString('hex')}.test`);
  mkdirSync(dir, { mode: 0o755 });
  return path.join(dir, 'privkey.pem');
}

interface Upload {
  /** The arguments of the apply call, decoded. */
  words: string[];
  /** The processes that carried it (sudo and mailops-host, or sh). */
  carriers: ProcessSeen[];
  /** Every process seen while the upload was on its way. */
  everything: ProcessSeen[][];
}

/**
 * The Node.js that runs this test, as seen from `checkout`: the project's own Node lives in its node_modules, so a
 * checkout shown to another user through a view must be run with the Node inside that view.
 */
function nodeIn(checkout: string): string {
  const inside = path.relative(repoRoot, process.execPath);
  return inside.startsWith('..') || path.isAbsolute(inside) ? process.execPath : path.join(checkout, inside);
}

/**
 * Writes a private key with test/lab/host-writer.ts, run as `user` (default root), while holding mailops-host's state
 * lock: the apply call then waits, visible in the process list, until the list has been read.
 */
async function watchUpload(
  content: string,
  file: string,
  run: { uid?: number; gid?: number; env: Record<string, string>; checkout?: string }
): Promise<Upload> {
  const writer: ChildProcess = spawn(
    nodeIn(run.checkout ?? repoRoot),
    ['--', path.join(run.checkout ?? repoRoot, 'test/lab/host-writer.ts'), lab.envFile, file],
    {
      cwd: '/',
      env: run.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(run.uid === undefined ? {} : { uid: run.uid, gid: run.gid }),
    }
  );
  let output = '';
  let errors = '';
  writer.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  writer.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
  await waitUntil(`the writer took the lock and read ${file} (${errors})`, () =>
    output.includes('based') ? true : writer.exitCode === null ? undefined : false
  );
  expect(output).toContain('based');
  const release = await holdStateLock();
  const everything: ProcessSeen[][] = [];
  let carriers: ProcessSeen[] = [];
  try {
    writer.stdin!.end(content);
    await waitUntil('the apply call waiting for the state lock', () => {
      const list = processList();
      everything.push(list);
      carriers = list.filter((seen) => wordsOf(seen)?.includes('apply') && wordsOf(seen)?.includes(file));
      return carriers.length > 0 ? true : undefined;
    });
  } finally {
    await release();
  }
  expect(await exited).toBe(0);
  expect(output).toContain('written');
  return { words: wordsOf(carriers[0]!) ?? [], carriers, everything };
}

/** The upload's content in any argument of any process seen, raw or base64-decoded: each line of the key's body. */
function leaks(upload: Upload, content: string): string[] {
  const lines = content.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
  expect(lines.length).toBeGreaterThan(1);
  return upload.everything.flat().flatMap((seen) =>
    seen.argv
      .flatMap(readings)
      .filter((argument) => lines.some((line) => argument.includes(line)))
      .map((argument) => `${seen.pid}: ${argument.slice(0, 80)}`)
  );
}

/** What apply is told about a new file: its path, size, SHA-256, base, owner and mode; the content is not there. */
function expectedApplyWords(file: string, content: string): unknown[] {
  return [
    '--chasquid-dir',
    lab.chasquidDir,
    '--lease',
    expect.stringMatching(/^[0-9a-f]+$/),
    'apply',
    '--request',
    expect.stringMatching(/^[0-9a-f]{32}$/),
    'w',
    file,
    String(Buffer.byteLength(content)),
    createHash('sha256').update(content).digest('hex'),
    'absent',
    'root',
    '600',
  ];
}

beforeAll(async () => {
  lab = await startLab({ transport: 'local', dns: false });
});

afterAll(async () => {
  await Promise.all(hosts.map((host) => host.close()));
  await lab?.stop();
});

describe('MAIL_HOST=local as root', () => {
  it('needs no SSH settings', () => {
    expect(lab.env.MAIL_HOST).toBe('local');
    expect(Object.keys(lab.env).filter((name) => name.startsWith('SSH_'))).toEqual([]);
  });

  it('adds a sender whose password then authenticates, sets an alias that delivers, and shows the status', async () => {
    const mailops = (args: string[]): Promise<CliRun> => runCli([...args, '--env-file', lab.envFile]);
    const added = await mailops(['user-add', 'alice@example.test', '--json']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const password = JSON.parse(added.stdout).password as string;
    await waitForAuthentication(lab, 'alice@example.test', password, true);
    await waitForAuthentication(lab, 'alice@example.test', `${password}x`, false);

    expect((await mailops(['alias-set', 'sales@example.test', 'alice'])).code).toBe(0);
    expect(readFileSync(path.join(lab.chasquidDir, 'domains/example.test/aliases'), 'utf8')).toMatch(/^sales: alice@example.test$/m);
    await deliverAfterReload('someone@sender.invalid', 'sales@example.test', 'local-root');
    expect(await waitForDelivery(lab, 'alice@example.test', 'local-root')).toBeDefined();

    const status = JSON.parse((await mailops(['status', '--json'])).stdout);
    expect(status.host).toBe('local (as root)');
    // chasquid of the lab's build (1.15), found on the host's PATH as over SSH.
    expect(status.chasquid.version).toMatch(/^1\.15/);
    expect(status.service.processes).toEqual([{ pid: lab.chasquidPid(), user: 'chasquid' }]);
  });

  it("sends an upload on standard input, never in an argument: the key is in no process's arguments", async () => {
    const content = secretKey();
    const file = keyFile();
    const upload = await watchUpload(content, file, { env: { PATH: process.env.PATH ?? '' } });
    // sh, and any subshell it forked for a moment (which shows the same arguments).
    expect(new Set(upload.carriers.map((seen) => JSON.stringify(seen.argv.slice(0, 4))))).toEqual(
      new Set([JSON.stringify(['/bin/sh', '-c', helperSource, 'mailops-host'])])
    );
    expect(upload.words).toEqual(expectedApplyWords(file, content));
    expect(leaks(upload, content)).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(content);
  });

  it('takes a killed mailops-host for a lost answer, asks the host, and the write lands once', async () => {
    const host = newHost();
    const file = keyFile();
    const content = secretKey();
    await host.lock.run(async () => {
      expect(await host.files.read(file)).toBeUndefined();
      const release = await holdStateLock();
      const writing = host.files.writeAtomic(file, content, { createOwner: 'root', createMode: 0o600 });
      try {
        const apply = await waitUntil('the apply call waiting for the state lock', () =>
          processList().find((seen) => wordsOf(seen)?.includes('apply') && wordsOf(seen)?.includes(file))
        );
        process.kill(apply.pid, 'SIGKILL');
      } finally {
        await release();
      }
      const written = await writing;
      expect(written.file).toMatchObject({ type: 'file', uid: 0, mode: 0o600 });
    });
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(readdirSync(path.dirname(file)).filter((name) => name.startsWith('.mailops-write'))).toEqual([]);
  });

  it('answers a killed call with no exit status (the lost answer of the SSH transport)', async () => {
    const host = newHost();
    const file = path.join(lab.chasquidDir, 'domains/example.test/aliases');
    const release = await holdStateLock();
    try {
      const marker = randomBytes(8).toString('hex');
      const call = host.verbs.call('hash', ['--call-off', marker, file]);
      const waiting = await waitUntil('the hash call waiting for the state lock', () =>
        processList().find((seen) => wordsOf(seen)?.includes(marker))
      );
      process.kill(waiting.pid, 'SIGKILL');
      await release();
      const result = await call;
      expect([result.code, result.signal]).toEqual([null, 'SIGKILL']);
    } finally {
      await release();
    }
  });

  it('stops a call that runs past its timeout', async () => {
    const host = newHost();
    const marker = randomBytes(8).toString('hex');
    const release = await holdStateLock();
    try {
      const error = await host.verbs
        .call('hash', ['--call-off', marker, path.join(lab.chasquidDir, 'domains/example.test/aliases')], { timeoutMs: 500 })
        .then(
          () => undefined,
          (thrown: unknown) => thrown
        );
      expect(error).toBeInstanceOf(MailopsError);
      expect((error as MailopsError).code).toBe('host-command-timeout');
      await waitUntil('the stopped call to leave the process list', () =>
        processList().some((seen) => wordsOf(seen)?.includes(marker)) ? undefined : true
      );
    } finally {
      await release();
    }
  });

  it("keeps mailops-host's answers: a missing file, a refused path, a conflicting change", async () => {
    const host = newHost();
    expect(await host.files.read(path.join(lab.chasquidDir, 'domains/nobody.test/users'))).toBeUndefined();
    await expect(host.files.read('/etc/shadow')).rejects.toThrow(/refused/);
    const aliases = path.join(lab.chasquidDir, 'domains/example.test/aliases');
    const before = readFileSync(aliases, 'utf8');
    const conflict = await host.lock.run(async () => {
      await host.files.read(aliases);
      writeFileSync(aliases, `${before}edited: by hand\n`);
      return host.files.writeAtomic(aliases, `${before}ours: too\n`).then(
        () => undefined,
        (thrown: unknown) => thrown as MailopsError
      );
    });
    expect([conflict?.code, conflict?.exitCode]).toEqual(['host-conflict', 4]);
    expect(readFileSync(aliases, 'utf8')).toBe(`${before}edited: by hand\n`);
  });

  it('lets two mailops processes change a file in turn under the host lock', async () => {
    const file = path.join(lab.chasquidDir, 'domains/example.test/aliases');
    const append = (host: MailHost, line: string) =>
      host.lock.run(async () => {
        const current = (await host.files.read(file))?.toString('utf8') ?? '';
        await host.files.writeAtomic(file, `${current}${line}\n`);
      });
    const [first, second] = [newHost(), newHost()];
    await Promise.all([
      append(first, 'one: alice'),
      append(second, 'two: alice'),
      append(first, 'three: alice'),
      append(second, 'four: alice'),
    ]);
    const lines = readFileSync(file, 'utf8').split('\n');
    for (const name of ['one', 'two', 'three', 'four']) expect(lines).toContain(`${name}: alice`);
  });
});

describe('MAIL_HOST=local as the restricted user, through the sudo rule of host-setup.sh', () => {
  const user = `mailops-l${randomBytes(3).toString('hex')}`;
  let account: { uid: number; gid: number };
  let program: string;
  let userEnv: Record<string, string>;
  /** The checkout as that user reaches it: itself, or a read-only view when its parents are closed to others. */
  let checkout = repoRoot;
  let view: string | undefined;

  const hostSetup = (args: string[]) => spawnSync('sh', [setupScript, ...args], { encoding: 'utf8' });
  const asUser = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
    new Promise((resolve, reject) => {
      const child = spawn(nodeIn(checkout), ['--', path.join(checkout, 'bin/mailops.js'), ...args, '--env-file', lab.envFile], {
        cwd: '/',
        env: { ...userEnv, ...env },
        uid: account.uid,
        gid: account.gid,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  beforeAll(() => {
    const prefix = path.join(lab.dir, 'prefix');
    // Like least-privilege.test.ts: a user of its own, the programs installed in the lab's directory, removed after.
    const setup = hostSetup([
      '--user',
      user,
      '--key-file',
      `${lab.sshKeyFile}.pub`,
      '--chasquid-dir',
      lab.chasquidDir,
      '--restart',
      lab.env.CHASQUID_RESTART ?? '',
      '--path',
      lab.hostPath,
      '--prefix',
      prefix,
    ]);
    expect(setup.stdout + setup.stderr).toContain(`create the system user ${user}`);
    expect(setup.status).toBe(0);
    program = path.join(prefix, 'mailops-host');
    const id = (option: string) => Number(execFileSync('id', [option, user], { encoding: 'utf8' }).trim());
    account = { uid: id('-u'), gid: id('-g') };
    const state = path.join(lab.dir, `state-${user}`);
    mkdirSync(state);
    chownSync(state, account.uid, account.gid);
    userEnv = { PATH: lab.hostPath, HOME: `/var/lib/${user}`, MAIL_HOST: `local:${program}`, STATE_DB: path.join(state, 'mailops.db') };
    if (enclosingDirectoryClosedToOthers(repoRoot) !== undefined) {
      // mailops runs as that user from the checkout: show it the checkout read-only, outside the lab's directory (which
      // is removed recursively at the end).
      view = mkdtempSync(path.join(os.tmpdir(), 'mailops-checkout-'));
      execFileSync('mount', ['--bind', repoRoot, view]);
      execFileSync('mount', ['-o', 'remount,bind,ro', view]);
      checkout = view;
    }
  });

  afterAll(() => {
    if (view !== undefined) {
      execFileSync('umount', [view]);
      rmdirSync(view);
    }
    hostSetup(['--user', user, '--remove']);
  });

  it('adds a sender that authenticates, sets an alias and shows the status as that user', async () => {
    const added = await asUser(['user-add', 'bob@example.test', '--json']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    await waitForAuthentication(lab, 'bob@example.test', JSON.parse(added.stdout).password, true);
    expect((await asUser(['alias-set', 'support@example.test', 'bob'])).code).toBe(0);
    expect(JSON.parse((await asUser(['aliases', '--json'])).stdout).aliases).toContainEqual({
      address: 'support@example.test',
      targets: ['bob@example.test'],
    });
    const status = JSON.parse((await asUser(['status', '--json'])).stdout);
    expect(status.host).toBe(`local (as ${user}, through sudo)`);
    expect(status.service.running).toBe(true);
  });

  it("calls sudo -n with the installed mailops-host and base64 words; the upload is in no process's arguments", async () => {
    const content = secretKey();
    const file = keyFile();
    const upload = await watchUpload(content, file, { uid: account.uid, gid: account.gid, env: userEnv, checkout });
    const viaSudo = upload.carriers.find((seen) => seen.argv[0] === 'sudo');
    expect(viaSudo?.argv.slice(0, 5)).toEqual(['sudo', '-n', '--', program, '--encoded']);
    expect(viaSudo?.argv.slice(5).every((word) => /^[A-Za-z0-9+/]*=*$/.test(word))).toBe(true);
    expect(upload.words).toEqual(expectedApplyWords(file, content));
    expect(leaks(upload, content)).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(content);
  });

  it('says what to do when sudo does not let it run that program', async () => {
    const refused = await asUser(['status'], { MAIL_HOST: `local:${path.join(lab.dir, 'elsewhere/mailops-host')}` });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `mailops runs as ${user}, which could not run ${path.join(lab.dir, 'elsewhere/mailops-host')} as root through sudo`
    );
    expect(refused.stderr).toContain('host-setup.sh');
  });
});
