// The embedded state database (node:sqlite, one file at STATE_DB): the audit trail, and whatever later features keep
// between runs (job runs, alerts, accepted DNS snapshots, pending DKIM retirements).
//
// The schema is a list of named migrations (schema.ts). Each runs once, in list order, inside a transaction, and
// its name is recorded in `schema_migrations`; an old database is brought up to date on open and a new one is
// created complete. A migration is never edited after it has shipped: a change is a new migration at the end.
// Names rather than numbers, so that two features developed side by side cannot both claim "version 3".

import { chmodSync, statSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isStateDatabaseBusy, stateDatabaseBusy, usageError } from '../errors.ts';
import { createPrivateFile, makePrivateDirectory } from './private-files.ts';
import { migrations } from './schema.ts';

/** How long a statement waits for another mailops process (the bot, a command) to finish writing. */
export const busyTimeoutMs = 5000;

export function openDatabase(file: string): DatabaseSync {
  if (file !== ':memory:') prepareDatabaseFile(file);
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(file);
    // The busy timeout first: switching to WAL needs a lock that another mailops process may hold for a moment, and
    // without a timeout that moment fails at once with "database is locked".
    database.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    database.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;');
  } catch (error) {
    if (isStateDatabaseBusy(error)) throw stateDatabaseBusy(file, error);
    throw usageError(
      'state-db-unreadable',
      `Cannot open the state database ${file}: ${(error as Error).message}.`,
      'Check STATE_DB and the permissions of the file and its directory.'
    );
  }
  try {
    migrate(database);
  } catch (error) {
    database.close();
    if (isStateDatabaseBusy(error)) throw stateDatabaseBusy(file, error);
    throw error;
  }
  return database;
}

/**
 * The database's directory (0700) and file (0600) are made before SQLite opens it, so that it never exists with
 * the umask's modes (SQLite makes its -wal and -shm files with the database file's mode). A database left readable
 * by others by an earlier version is made private.
 */
function prepareDatabaseFile(file: string): void {
  try {
    makePrivateDirectory(path.dirname(path.resolve(file)));
  } catch (error) {
    throw usageError(
      'state-db-unwritable',
      `Cannot create the directory of STATE_DB (${file}): ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      'Point STATE_DB at a writable location, or create its directory.'
    );
  }
  try {
    if (createPrivateFile(file)) return;
  } catch (error) {
    throw usageError(
      'state-db-unwritable',
      `Cannot create the state database ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      'Point STATE_DB at a writable location, or make its directory writable for mailops.'
    );
  }
  for (const existing of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((statSync(existing).mode & 0o077) !== 0) chmodSync(existing, 0o600);
    } catch {
      // Missing (no -wal yet), or not ours to change: SQLite says so when it matters.
    }
  }
}

function migrate(database: DatabaseSync): void {
  database.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set((database.prepare('SELECT name FROM schema_migrations').all() as Array<{ name: string }>).map((row) => row.name));
  for (const migration of migrations) {
    if (applied.has(migration.name)) continue;
    database.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have applied it while we waited for the write lock.
      if (database.prepare('SELECT 1 FROM schema_migrations WHERE name = ?').get(migration.name) === undefined) {
        database.exec(migration.sql);
        database.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(migration.name, new Date().toISOString());
      }
      database.exec('COMMIT');
    } catch (error) {
      database.exec('ROLLBACK');
      throw error;
    }
  }
}
