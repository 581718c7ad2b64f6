// The embedded state database (node:sqlite, one file at STATE_DB): the audit trail, and whatever later features keep
// between runs (job runs, alerts, accepted DNS snapshots, pending DKIM retirements).
//
// The schema is a list of named migrations (schema.ts). Each runs once, in list order, inside a transaction, and
// its name is recorded in `schema_migrations`; an old database is brought up to date on open and a new one is
// created complete. A migration is never edited after it has shipped: a change is a new migration at the end.
// Names rather than numbers, so that two features developed side by side cannot both claim "version 3".

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { usageError } from '../errors.ts';
import { migrations } from './schema.ts';

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
    database.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  } catch (error) {
    throw usageError('state-db-unreadable', `Cannot open the state database ${file}: ${(error as Error).message}.`,
      'Check STATE_DB and the permissions of the file and its directory.');
  }
  migrate(database);
  return database;
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
