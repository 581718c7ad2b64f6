// Leases: "this process is doing X" across processes that share the state database — the bot and a `mailops run-job`
// typed by someone at the same moment. A lease has a holder and an expiry; the holder renews it while it works and
// releases it when done, and a lease whose holder died expires by itself. Real time (Date.now), not the operations'
// clock: a lease is about processes being alive.

import type { DatabaseSync } from 'node:sqlite';

/** Takes the lease, or renews it for its holder; false while another holder's lease has not expired. */
export function acquireLease(database: DatabaseSync, name: string, holder: string, ttlMs: number, nowMs = Date.now()): boolean {
  const result = database
    .prepare(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE leases.expires_at <= ? OR leases.holder = excluded.holder`
    )
    .run(name, holder, nowMs + ttlMs, nowMs);
  return Number(result.changes) > 0;
}

export function releaseLease(database: DatabaseSync, name: string, holder: string): void {
  database.prepare('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
}

/** Who holds the lease now, if anyone. */
export function leaseHolder(database: DatabaseSync, name: string, nowMs = Date.now()): string | undefined {
  const row = database.prepare('SELECT holder FROM leases WHERE name = ? AND expires_at > ?').get(name, nowMs) as
    { holder: string } | undefined;
  return row?.holder;
}
