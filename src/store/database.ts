// The embedded state database (node:sqlite, one file at STATE_DB): the audit trail, and whatever later features keep
// between runs (job runs, alerts, accepted DNS snapshots, pending DKIM retirements).
//
// The schema is versioned with SQLite's `user_version`: each migration runs once, in order, inside a transaction, so
// an old database is brought up to date on open and a new one is created complete. A migration is never edited
// after it has shipped; a change is a new migration appended to the list.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { usageError } from '../errors.ts';

export type Migration = (database: DatabaseSync) => void;

const migrations: Migration[] = [
  (database) => database.exec(`
    CREATE TABLE audit (
      id INTEGER PRIMARY KEY,
      at TEXT NOT NULL,
      actor TEXT NOT NULL,
      operation TEXT NOT NULL,
      target TEXT NOT NULL,
      outcome TEXT NOT NULL,
      detail TEXT
    );
    CREATE INDEX audit_at ON audit (at);
  `),
];

export function openDatabase(file: string): DatabaseSync {
  if (file !== ':memory:') {
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw usageError('state-db-unwritable', `Cannot create the directory of STATE_DB (${file}): ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
        'Point STATE_DB at a writable location, or create its directory.');
    }
  }
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(file);
  } catch (error) {
    throw usageError('state-db-unreadable', `Cannot open the state database ${file}: ${(error as Error).message}.`,
      'Check STATE_DB and the file\'s permissions.');
  }
  database.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  migrate(database);
  return database;
}

function migrate(database: DatabaseSync): void {
  const current = Number((database.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (current > migrations.length) {
    throw usageError('state-db-newer', `The state database was written by a newer mailops (schema ${current}, this one knows ${migrations.length}).`,
      'Upgrade mailops, or point STATE_DB at another file.');
  }
  for (let version = current; version < migrations.length; version += 1) {
    database.exec('BEGIN IMMEDIATE');
    try {
      migrations[version]?.(database);
      database.exec(`PRAGMA user_version = ${version + 1}`);
      database.exec('COMMIT');
    } catch (error) {
      database.exec('ROLLBACK');
      throw error;
    }
  }
}
