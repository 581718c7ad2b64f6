// The state database and the ACME account key beside it are mailops's alone, whatever the umask: they hold the probe
// sender's password and the CA account. And a database another mailops process keeps locked is an operational
// failure (exit 1, `state-db-busy`), reached only after waiting — never "invalid input" (exit 2).

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountKeyFile, loadOrCreateAccountKey } from '../src/acme/account.ts';
import { MailopsError } from '../src/errors.ts';
import { busyTimeoutMs, openDatabase } from '../src/store/database.ts';
import { runCli } from './cli.ts';

let dir: string;
const mode = (file: string) => (statSync(file).mode & 0o7777).toString(8).padStart(4, '0');

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-state-'));
});

afterAll(() => {
  execFileSync('rm', ['-rf', dir]);
});

/** Runs `work` with this umask (the test runs in a child process of its own: vitest's forks pool). */
function withUmask<T>(umask: number, work: () => T): T {
  const previous = process.umask(umask);
  try {
    return work();
  } finally {
    process.umask(previous);
  }
}

describe('the state database and its directory are private whatever the umask', () => {
  it.each([
    ['000', 0o000],
    ['022', 0o022],
    ['277', 0o277],
  ] as const)('umask %s: new directories 0700, the database and its -wal and -shm files 0600', (_label, umask) => {
    const stateDb = path.join(dir, `umask-${umask.toString(8)}`, 'state', 'mailops.db');
    withUmask(umask, () => {
      const database = openDatabase(stateDb);
      try {
        database.exec(
          "INSERT INTO audit (at, actor, operation, target, outcome) VALUES ('2026-12-01T00:00:00Z', 'test', 'probe', '', 'ok')"
        );
        expect({
          top: mode(path.dirname(path.dirname(stateDb))),
          directory: mode(path.dirname(stateDb)),
          database: mode(stateDb),
          wal: mode(`${stateDb}-wal`),
          shm: mode(`${stateDb}-shm`),
        }).toEqual({ top: '0700', directory: '0700', database: '0600', wal: '0600', shm: '0600' });
      } finally {
        database.close();
      }
    });
  });

  it('makes a database an earlier version left readable by others private, and leaves an existing directory alone', () => {
    const shared = path.join(dir, 'shared');
    execFileSync('install', ['-d', '-m', '0755', shared]);
    const stateDb = path.join(shared, 'mailops.db');
    openDatabase(stateDb).close();
    chmodSync(stateDb, 0o644);
    openDatabase(stateDb).close();
    expect({ directory: mode(shared), database: mode(stateDb) }).toEqual({ directory: '0755', database: '0600' });
  });

  it.each([
    ['000', 0o000],
    ['022', 0o022],
  ] as const)('umask %s: the ACME account key beside it is 0600 in a 0700 directory', async (_label, umask) => {
    const keyFile = accountKeyFile(path.join(dir, `acme-${umask.toString(8)}`, 'state', 'mailops.db'));
    const previous = process.umask(umask);
    try {
      const key = await loadOrCreateAccountKey(keyFile);
      expect(key.toString()).toContain('PRIVATE KEY');
    } finally {
      process.umask(previous);
    }
    expect({ directory: mode(path.dirname(keyFile)), key: mode(keyFile) }).toEqual({ directory: '0700', key: '0600' });
  });
});

describe('a state database kept locked by another process', () => {
  it('waits busy_timeout before switching to WAL, then fails as an operational error (state-db-busy), not as bad input', () => {
    // A database still in SQLite's default journal mode, held by another connection's exclusive lock: switching it to
    // WAL needs that lock.
    const stateDb = path.join(dir, 'fresh', 'mailops.db');
    execFileSync('install', ['-d', '-m', '0700', path.dirname(stateDb)]);
    const other = new DatabaseSync(stateDb);
    other.exec('CREATE TABLE held (x); BEGIN EXCLUSIVE; INSERT INTO held VALUES (1)');
    const started = performance.now();
    let failure: unknown;
    try {
      openDatabase(stateDb).close();
    } catch (error) {
      failure = error;
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(busyTimeoutMs - 500);
    expect(failure).toBeInstanceOf(MailopsError);
    expect(failure).toMatchObject({ code: 'state-db-busy', kind: 'failed', exitCode: 1 });
    expect((failure as MailopsError).message).toContain(`The state database ${stateDb} is locked`);
    // Once the other process is done, it opens.
    openDatabase(stateDb).close();
  });

  it("a command whose write meets another connection's write transaction exits 1 with state-db-busy, and works once it ends", async () => {
    const work = mkdtempSync(path.join(dir, 'cli-'));
    const stateDb = path.join(work, 'state', 'mailops.db');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(work, 'key')]);
    writeFileSync(path.join(work, 'known_hosts'), '');
    // run-job dkim-retire with nothing due writes only the state database: the mail host is never contacted.
    writeFileSync(
      path.join(work, '.env'),
      [
        `STATE_DB=${stateDb}`,
        'MAIL_DOMAINS=example.test',
        'MAIL_HOST=ssh://root@127.0.0.1:9',
        `SSH_KEY_FILE=${path.join(work, 'key')}`,
        `SSH_KNOWN_HOSTS_FILE=${path.join(work, 'known_hosts')}`,
        '',
      ].join('\n')
    );
    openDatabase(stateDb).close();

    const other = new DatabaseSync(stateDb);
    other.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    other.exec('BEGIN IMMEDIATE');
    let locked;
    try {
      locked = await runCli(['run-job', 'dkim-retire', '--json'], { cwd: work });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(locked.code).toBe(1);
    expect(JSON.parse(locked.stdout)).toMatchObject({ ok: false, error: { code: 'state-db-busy' } });
    expect(locked.stderr).toContain('is locked: another mailops process (the bot or a command) kept it busy');

    const free = await runCli(['run-job', 'dkim-retire', '--json'], { cwd: work });
    expect(free.code).toBe(0);
    expect(JSON.parse(free.stdout)).toMatchObject({ job: 'dkim-retire', ok: true });
  });
});
