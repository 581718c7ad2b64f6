// The SSH transport against a real OpenSSH server: pinned host keys, literal arguments, atomic writes, the host
// lock, reconnection.

import { execFileSync } from 'node:child_process';
import { chownSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config.ts';
import { MailopsError } from '../../src/errors.ts';
import { backupsKept } from '../../src/host/files.ts';
import { mailHostFromConfig, type MailHost } from '../../src/host/mail-host.ts';
import { createLogger, Redactor } from '../../src/log.ts';
import { hostileArguments } from '../hostile-arguments.ts';
import { waitFor } from '../wait.ts';
import { sshConnection, startLab, type Lab } from './lab.ts';

let lab: Lab;
let config: Config;
const hosts: MailHost[] = [];
const logger = createLogger({ level: 'silent', redactor: new Redactor() });

function newHost(overrides: Record<string, string> = {}, hostLogger = logger): MailHost {
  const host = mailHostFromConfig(parseConfig({ ...lab.env, ...overrides }), hostLogger);
  hosts.push(host);
  return host;
}

/** A logger at info level whose lines the test reads. */
function recordingLogger(): { logger: typeof logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', redactor: new Redactor(), destination }), lines };
}

/**
 * How many `mailops-host … lease acquire` calls for this lab run on the host right now. As root, mailops sends the
 * script with `sh -c` and its words as arguments, so they show in the process's command line.
 */
function leaseAcquiresRunning(): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name))) {
    let words: string[];
    try {
      words = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const at = words.indexOf('mailops-host');
    if (
      at >= 0 &&
      words[at + 1] === '--chasquid-dir' &&
      words[at + 2] === lab.chasquidDir &&
      words[at + 3] === 'lease' &&
      words[at + 4] === 'acquire'
    )
      count += 1;
  }
  return count;
}

async function failure(promise: Promise<unknown>): Promise<MailopsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MailopsError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  lab = await startLab({ dns: false });
  config = parseConfig(lab.env);
});

afterAll(async () => {
  await Promise.all(hosts.map((host) => host.close()));
  await lab?.stop();
});

describe('host keys', () => {
  const labFingerprint = () =>
    execFileSync('ssh-keygen', ['-lf', path.join(lab.dir, 'ssh/host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1] ?? '';

  it('refuses a changed host key and shows the offered fingerprint', async () => {
    const otherKey = path.join(lab.dir, 'ssh/other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const [type, key] = readFileSync(`${otherKey}.pub`, 'utf8').split(' ');
    const file = path.join(lab.dir, 'ssh/known_hosts_changed');
    writeFileSync(file, `[127.0.0.1]:${lab.ports.ssh} ${type} ${key}\n`);
    const error = await failure(sshConnection(newHost({ SSH_KNOWN_HOSTS_FILE: file })).exec(['true']));
    expect(error.code).toBe('host-key-changed');
    expect(error.message).toContain(labFingerprint());
    expect(error.hint).toContain('SSH_KNOWN_HOSTS_FILE');
    expect(error.exitCode).toBe(1);
  });

  it('refuses a host that known_hosts does not list', async () => {
    const file = path.join(lab.dir, 'ssh/known_hosts_empty');
    writeFileSync(file, '# nothing here\n');
    const error = await failure(sshConnection(newHost({ SSH_KNOWN_HOSTS_FILE: file })).exec(['true']));
    expect(error.code).toBe('host-key-unknown');
    expect(error.message).toContain(labFingerprint());
  });

  it('accepts the host through a hashed entry', async () => {
    const file = path.join(lab.dir, 'ssh/known_hosts_hashed');
    writeFileSync(file, readFileSync(config.SSH_KNOWN_HOSTS_FILE ?? '', 'utf8'));
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    const result = await sshConnection(newHost({ SSH_KNOWN_HOSTS_FILE: file })).exec(['echo', 'in']);
    expect(result.stdout.toString()).toBe('in\n');
  });
});

describe('commands', () => {
  it('delivers every hostile argument to the remote program as one literal argument', async () => {
    const host = newHost();
    const marker = path.join(lab.dir, 'pwned');
    const args = [...hostileArguments, `$(touch ${marker})`, `;touch ${marker}`, `\`touch ${marker}\``];
    const result = await sshConnection(host).execOk(['printf', '%s\\0', ...args]);
    expect(result.stdout.toString('utf8').split('\0').slice(0, -1)).toEqual(args);
    expect(existsSync(marker)).toBe(false);
  });

  it('passes a leading dash as an argument, not an option of the shell', async () => {
    const result = await sshConnection(newHost()).execOk(['printf', '[%s]', '-c', '--help']);
    expect(result.stdout.toString()).toBe('[-c][--help]');
  });

  it('carries binary standard input and reports exit status and errors', async () => {
    const host = newHost();
    const input = Buffer.from(Array.from({ length: 70_000 }, (_, index) => index % 256));
    const echoed = await sshConnection(host).exec(['cat'], { stdin: input });
    expect(echoed.stdout.equals(input)).toBe(true);
    const failed = await sshConnection(host).exec(['sh', '-c', 'echo oops >&2; exit 7']);
    expect(failed.code).toBe(7);
    expect(failed.stderr).toBe('oops\n');
  });

  it('stops a command that runs past its timeout', async () => {
    const host = newHost();
    const started = Date.now();
    const error = await failure(sshConnection(host).exec(['sleep', '30'], { timeoutMs: 300 }));
    expect(error.code).toBe('host-command-timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers a prompt on a pseudo-terminal without echoing it into the command line', async () => {
    const result = await sshConnection(newHost()).execOk(['sh', '-c', 'printf "Password: "; read -r answer; echo "length=${#answer}"'], {
      pty: true,
      prompts: [{ when: /Password:/, answer: 'correct horse' }],
    });
    expect(result.stdout.toString()).toContain('length=13');
  });

  it('re-establishes a dropped connection for the next command', async () => {
    const { logger: hostLogger, lines } = recordingLogger();
    const host = newHost({}, hostLogger);
    await sshConnection(host).execOk(['true']);
    const before = sshConnection(host).generation;
    await lab.dropSshConnections();
    await waitFor('the client to notice the dropped connection', () => lines.some((line) => line.includes('SSH connection closed')));
    const result = await sshConnection(host).execOk(['echo', 'back']);
    expect(result.stdout.toString()).toBe('back\n');
    expect(sshConnection(host).generation).toBe(before + 1);
  });

  it('runs many commands at once on one connection (more than sshd allows channels)', async () => {
    const host = newHost();
    const results = await Promise.all(Array.from({ length: 25 }, (_, index) => sshConnection(host).execOk(['echo', String(index)])));
    expect(results.map((result) => result.stdout.toString().trim())).toEqual(Array.from({ length: 25 }, (_, index) => String(index)));
    expect(sshConnection(host).generation).toBe(1);
  });
});

describe('files', () => {
  // mailops-host lets mailops change only the files it manages: each test works in a domain directory of its own.
  const scratch = () => {
    const dir = path.join(lab.chasquidDir, 'domains', `scratch-${String(Math.random()).slice(2, 10)}.test`);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    return dir;
  };
  const backupsOf = (file: string) => {
    const dir = path.join(lab.chasquidDir, '.mailops-backup', path.relative(lab.chasquidDir, path.dirname(file)));
    return existsSync(dir)
      ? readdirSync(dir)
          .filter((name) => name.startsWith(`${path.basename(file)}.`))
          .sort()
          .map((name) => path.join(dir, name))
      : [];
  };
  const locked = <T>(host: MailHost, work: () => Promise<T>) => host.lock.run(work);

  it('replaces a file atomically, keeping owner, group and mode, with a backup of the old content', async () => {
    const file = path.join(scratch(), 'aliases');
    writeFileSync(file, 'old: content\n');
    chownSync(file, lab.daemon.uid, lab.daemon.gid);
    chmodSync(file, 0o640);
    const host = newHost();
    await locked(host, () => host.files.writeAtomic(file, 'new: content\n'));
    const after = statSync(file);
    expect(readFileSync(file, 'utf8')).toBe('new: content\n');
    expect([after.uid, after.gid, after.mode & 0o7777]).toEqual([lab.daemon.uid, lab.daemon.gid, 0o640]);
    const backups = backupsOf(file);
    expect(backups).toHaveLength(1);
    expect(readFileSync(backups[0] ?? '', 'utf8')).toBe('old: content\n');
    expect(statSync(path.join(lab.chasquidDir, '.mailops-backup')).mode & 0o777).toBe(0o700);
    expect(readdirSync(path.dirname(file)).filter((name) => name.startsWith('.mailops-write'))).toEqual([]);
  });

  it('creates a new file with the owner and mode asked for', async () => {
    const file = path.join(scratch(), 'aliases');
    const host = newHost();
    await locked(host, () => host.files.writeAtomic(file, 'a: b\n', { createOwner: 'root:chasquid', createMode: 0o640 }));
    const created = statSync(file);
    expect([created.uid, created.gid, created.mode & 0o777]).toEqual([0, lab.daemon.gid, 0o640]);
  });

  it('never lets a reader see a mix of old and new content', async () => {
    const file = path.join(scratch(), 'aliases');
    const versions = ['A', 'B', 'C'].map((letter) => `${letter.repeat(512 * 1024)}\n`);
    writeFileSync(file, versions[0] ?? '');
    const host = newHost();
    let reading = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (reading) {
        const content = readFileSync(file, 'utf8');
        seen.add(content.length === versions[0]?.length && /^(A+|B+|C+)\n$/.test(content) ? (content[0] ?? '?') : 'MIXED');
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await locked(host, async () => {
      for (let round = 1; round <= 12; round += 1) await host.files.writeAtomic(file, versions[round % 3] ?? '');
    });
    reading = false;
    await reader;
    expect(seen.has('MIXED')).toBe(false);
    expect(seen.size).toBeGreaterThan(1);
  });

  it('leaves the old content when the upload is cut short', async () => {
    const dir = scratch();
    const file = path.join(dir, 'aliases');
    writeFileSync(file, 'old: x\n');
    const host = newHost();
    // Drop the connection while a large upload is in flight: once its temporary file has appeared on the host.
    const upload = locked(host, () => host.files.writeAtomic(file, Buffer.alloc(12 * 1024 * 1024, 'x')));
    const settled = upload.then(
      () => 'written',
      () => 'failed'
    );
    await waitFor(
      "the upload's temporary file on the host (or the end of the upload)",
      async () =>
        readdirSync(dir).some((name) => name.startsWith('.mailops-write')) ||
        (await Promise.race([settled, Promise.resolve('pending')])) !== 'pending',
      { intervalMs: 5 }
    );
    await lab.dropSshConnections();
    // Either the upload was sent again on a new connection and completed, or it failed; never a mix.
    const outcome = await settled;
    // The host side of a cut-short upload removes its temporary file as it ends, which may be after the client gave up.
    await waitFor("the host to remove the upload's temporary file", () =>
      readdirSync(dir).every((name) => !name.startsWith('.mailops-write'))
    );
    const content = readFileSync(file);
    expect(outcome === 'written' ? content.length : content.toString()).toBe(outcome === 'written' ? 12 * 1024 * 1024 : 'old: x\n');
    expect(readdirSync(dir).filter((name) => name.startsWith('.mailops-write'))).toEqual([]);
  });

  it(`keeps the newest ${backupsKept} backups of a file`, async () => {
    const file = path.join(scratch(), 'aliases');
    writeFileSync(file, 'v0: x\n');
    const host = newHost();
    await locked(host, async () => {
      for (let version = 1; version <= backupsKept + 3; version += 1) await host.files.writeAtomic(file, `v${version}: x\n`);
    });
    const backups = backupsOf(file);
    expect(backups).toHaveLength(backupsKept);
    expect(readFileSync(backups.at(-1) ?? '', 'utf8')).toBe(`v${backupsKept + 2}: x\n`);
  });

  it('refuses to touch anything outside the files mailops manages, symlinks and .. included', async () => {
    const host = newHost();
    const outside = path.join(lab.dir, 'outside');
    writeFileSync(outside, "not mailops's\n");
    const link = path.join(scratch(), 'aliases');
    execFileSync('ln', ['-s', outside, link]);
    const attempts: Array<() => Promise<unknown>> = [
      () => host.files.writeAtomic(outside, 'x'),
      () => host.files.writeAtomic(link, 'x: y\n'),
      () => host.files.writeAtomic(`${lab.chasquidDir}/../outside`, 'x'),
      () => host.files.read('/etc/shadow'),
      () => host.files.read(link),
      () => host.files.list('/'),
      () => host.files.setOwnership(outside, { mode: 0o644 }),
      () => host.files.remove(outside),
    ];
    await locked(host, async () => {
      for (const attempt of attempts) {
        const error = await attempt().then(
          () => undefined,
          (thrown: unknown) => thrown as Error
        );
        expect(error?.message).toMatch(/refused|not absolute/);
      }
    });
    expect(readFileSync(outside, 'utf8')).toBe("not mailops's\n");
  });

  it('reads, stats and lists files, and tells a missing file apart', async () => {
    const dir = scratch();
    writeFileSync(path.join(dir, 'aliases'), 'x: y\n');
    writeFileSync(path.join(dir, 'dkim_selector'), 's1\n');
    const host = newHost();
    expect((await host.files.read(path.join(dir, 'aliases')))?.toString()).toBe('x: y\n');
    expect(await host.files.read(path.join(dir, 'users'))).toBeUndefined();
    expect(await host.files.list(dir)).toEqual([
      { name: 'aliases', type: 'file' },
      { name: 'dkim_selector', type: 'file' },
    ]);
    expect(await host.files.list(path.join(lab.chasquidDir, 'domains', 'missing.test'))).toBeUndefined();
    expect(await host.files.stat(dir)).toMatchObject({ type: 'directory', uid: 0, owner: 'root' });
  });

  it('changes nothing and leaves no empty backup when the backup cannot be written (a full disk)', async () => {
    const file = path.join(scratch(), 'aliases');
    writeFileSync(file, `old: ${'x'.repeat(8000)}\n`);
    const backups = path.join(lab.chasquidDir, '.mailops-backup', path.relative(lab.chasquidDir, path.dirname(file)));
    mkdirSync(backups, { recursive: true, mode: 0o700 });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', backups]);
    try {
      const host = newHost();
      const error = await failure(locked(host, () => host.files.writeAtomic(file, 'new: y\n')));
      expect(error.message).toMatch(/could not back up .*nothing was changed/);
      expect(readFileSync(file, 'utf8')).toBe(`old: ${'x'.repeat(8000)}\n`);
      expect(readdirSync(backups)).toEqual([]);
      expect(readdirSync(path.dirname(file)).filter((name) => name.startsWith('.mailops-write'))).toEqual([]);
    } finally {
      execFileSync('umount', [backups]);
    }
  });

  it('refuses a change based on content that has changed since it was read (compare-and-swap)', async () => {
    const file = path.join(scratch(), 'aliases');
    writeFileSync(file, 'a: b\n');
    const host = newHost();
    const error = await failure(
      locked(host, async () => {
        await host.files.read(file);
        writeFileSync(file, 'a: b\nedited: by hand\n');
        await host.files.writeAtomic(file, 'a: b\nours: too\n');
      })
    );
    expect(error.code).toBe('host-conflict');
    expect(error.exitCode).toBe(4);
    expect(readFileSync(file, 'utf8')).toBe('a: b\nedited: by hand\n');
  });

  it('changes several files all or nothing: one stale base changes none of them', async () => {
    const dir = scratch();
    writeFileSync(path.join(dir, 'aliases'), 'a: b\n');
    writeFileSync(path.join(dir, 'dkim_selector'), 's1\n');
    const host = newHost();
    const error = await failure(
      locked(host, async () => {
        await host.files.read(path.join(dir, 'aliases'));
        await host.files.read(path.join(dir, 'dkim_selector'));
        writeFileSync(path.join(dir, 'dkim_selector'), 's0\n');
        await host.files.apply([
          { kind: 'write', file: path.join(dir, 'aliases'), content: 'a: c\n' },
          { kind: 'write', file: path.join(dir, 'dkim_selector'), content: 's2\n' },
        ]);
      })
    );
    expect(error.code).toBe('host-conflict');
    expect(readFileSync(path.join(dir, 'aliases'), 'utf8')).toBe('a: b\n');
  });
});

describe('the host lock', () => {
  async function lockedStep(host: MailHost, log: string, name: string): Promise<void> {
    await host.lock.run(async () => {
      await sshConnection(host).execOk(['sh', '-c', 'echo "start $1" >> "$2"; sleep 0.2; echo "end $1" >> "$2"', 'step', name, log]);
    });
  }

  it('runs locked operations one at a time, across connections (processes) and within one', async () => {
    const log = path.join(lab.dir, 'lock.log');
    const first = newHost();
    const second = newHost();
    await Promise.all([
      lockedStep(first, log, 'a'),
      lockedStep(second, log, 'b'),
      lockedStep(first, log, 'c'),
      lockedStep(second, log, 'd'),
    ]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(8);
    for (let index = 0; index < lines.length; index += 2) {
      const name = lines[index]?.split(' ')[1];
      expect(lines[index]).toBe(`start ${name}`);
      expect(lines[index + 1]).toBe(`end ${name}`);
    }
  });

  it('keeps the lock through a dropped connection: the holder finishes first, then the waiter', async () => {
    const file = path.join(lab.chasquidDir, 'domains', 'lock-drop.test', 'aliases');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '');
    const holder = newHost();
    const waiter = newHost();
    let release: (() => void) | undefined;
    const held = holder.lock.run(async () => {
      await holder.files.read(file);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      await holder.files.writeAtomic(file, 'holder: x\n');
    });
    const releaseHolder = await waitFor('the holder to take the lock and read the file', () => release);
    await lab.dropSshConnections();
    const waited = waiter.lock.run(async () => {
      const seen = (await waiter.files.read(file))?.toString();
      await waiter.files.writeAtomic(file, `${seen}waiter: x\n`);
    });
    await waitFor('the waiter to ask the host for the lock', () => leaseAcquiresRunning() > 0);
    releaseHolder();
    await held;
    await waited;
    expect(readFileSync(file, 'utf8')).toBe('holder: x\nwaiter: x\n');
  });

  it('frees the lock when its holder stops renewing it (a crashed mailops), and fences the old holder out', async () => {
    const crashed = newHost();
    const acquired = await crashed.verbs.callOk('lease', ['acquire', '5', 'crashed', '2']);
    const token = acquired.stdout.toString().trim();
    const waiter = newHost();
    const started = Date.now();
    await waiter.lock.run(async () => undefined);
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect(Date.now() - started).toBeLessThan(10_000);
    const renewal = await crashed.verbs.call('lease', ['renew', token]);
    expect(renewal.code).toBe(46);
  });
});
