// Old DKIM keys waiting to be retired. A rotation keeps the previous key published (and, with chasquid's built-in
// signing, signing) for DKIM_GRACE_DAYS, so that messages signed with it still verify while they are in transit or
// read late; the `dkim-retire` job removes it once the time has come. Kept in the state database so that the
// schedule survives restarts of mailops. The record is kept as published, to remove exactly that value from DNS.

import type { DatabaseSync } from 'node:sqlite';
import type { DkimLayout } from '../chasquid/version.ts';

export interface DkimRetirement {
  id: number;
  domain: string;
  selector: string;
  record: string;
  layout: DkimLayout;
  scheduledAt: string;
  dueAt: string;
  retiredAt: string | undefined;
  lastError: string | undefined;
}

interface Row {
  id: number;
  domain: string;
  selector: string;
  record: string;
  layout: string;
  scheduled_at: string;
  due_at: string;
  retired_at: string | null;
  last_error: string | null;
}

function fromRow(row: Row): DkimRetirement {
  return {
    id: row.id,
    domain: row.domain,
    selector: row.selector,
    record: row.record,
    layout: row.layout as DkimLayout,
    scheduledAt: row.scheduled_at,
    dueAt: row.due_at,
    retiredAt: row.retired_at ?? undefined,
    lastError: row.last_error ?? undefined,
  };
}

/** Schedules a selector's retirement; a selector already scheduled keeps its date. */
export function scheduleRetirement(
  database: DatabaseSync,
  entry: Pick<DkimRetirement, 'domain' | 'selector' | 'record' | 'layout' | 'scheduledAt' | 'dueAt'>
): void {
  database
    .prepare(
      `INSERT INTO dkim_retirements (domain, selector, record, layout, scheduled_at, due_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (domain, selector) DO NOTHING`
    )
    .run(entry.domain, entry.selector, entry.record, entry.layout, entry.scheduledAt, entry.dueAt);
}

/** Retirements not done yet, for one domain or all, oldest due first. */
export function pendingRetirements(database: DatabaseSync, domain?: string): DkimRetirement[] {
  const rows =
    domain === undefined
      ? database.prepare('SELECT * FROM dkim_retirements WHERE retired_at IS NULL ORDER BY due_at, id').all()
      : database.prepare('SELECT * FROM dkim_retirements WHERE retired_at IS NULL AND domain = ? ORDER BY due_at, id').all(domain);
  return (rows as unknown as Row[]).map(fromRow);
}

/** Every selector ever scheduled for a domain (retired or not): such a selector is never used again. */
export function scheduledSelectors(database: DatabaseSync, domain: string): string[] {
  return (database.prepare('SELECT selector FROM dkim_retirements WHERE domain = ?').all(domain) as Array<{ selector: string }>).map(
    (row) => row.selector
  );
}

export function markRetired(database: DatabaseSync, id: number, at: Date): void {
  database.prepare('UPDATE dkim_retirements SET retired_at = ?, last_error = NULL WHERE id = ?').run(at.toISOString(), id);
}

export function markRetirementFailed(database: DatabaseSync, id: number, error: string): void {
  database.prepare('UPDATE dkim_retirements SET last_error = ? WHERE id = ?').run(error.slice(0, 1000), id);
}
