// Open alerts: the conditions that raised an alert and have not ended yet (a DNS record drifting, a renewal failing,
// a listener serving the wrong certificate). One row per condition, by key (`drift:<domain>:<name>:<type>`,
// `renewal-failed:<certificate>`, …). The fingerprint says which state raised it: the same fingerprint on the next run
// means the same alert, which is not raised again; a different one is a new alert. When the condition ends the row
// goes, and the job says so (a recovery). `state` holds what the job needs to word the recovery or decide an
// escalation (JSON).

import type { DatabaseSync } from 'node:sqlite';

export interface OpenAlert<State = Record<string, unknown>> {
  key: string;
  kind: string;
  fingerprint: string;
  openedAt: string;
  updatedAt: string;
  state: State;
}

interface Row {
  key: string;
  kind: string;
  fingerprint: string;
  opened_at: string;
  updated_at: string;
  state: string;
}

function fromRow<State>(row: Row): OpenAlert<State> {
  return {
    key: row.key,
    kind: row.kind,
    fingerprint: row.fingerprint,
    openedAt: row.opened_at,
    updatedAt: row.updated_at,
    state: JSON.parse(row.state) as State,
  };
}

export function openAlert<State>(database: DatabaseSync, key: string): OpenAlert<State> | undefined {
  const row = database.prepare('SELECT * FROM alerts WHERE key = ?').get(key) as Row | undefined;
  return row === undefined ? undefined : fromRow<State>(row);
}

/** Open alerts whose key starts with `prefix` (`drift:example.com:`), oldest first. */
export function openAlerts<State>(database: DatabaseSync, prefix = ''): Array<OpenAlert<State>> {
  const rows = database
    .prepare('SELECT * FROM alerts WHERE substr(key, 1, length(?)) = ? ORDER BY opened_at, key')
    .all(prefix, prefix) as unknown as Row[];
  return rows.map((row) => fromRow<State>(row));
}

/** Opens the alert, or updates an open one (its opening time stays). */
export function saveAlert<State>(database: DatabaseSync, alert: Omit<OpenAlert<State>, 'openedAt'> & { openedAt?: string }): void {
  database
    .prepare(
      `INSERT INTO alerts (key, kind, fingerprint, opened_at, updated_at, state) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at, state = excluded.state`
    )
    .run(alert.key, alert.kind, alert.fingerprint, alert.openedAt ?? alert.updatedAt, alert.updatedAt, JSON.stringify(alert.state));
}

export function closeAlert(database: DatabaseSync, key: string): void {
  database.prepare('DELETE FROM alerts WHERE key = ?').run(key);
}
