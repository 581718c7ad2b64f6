// The latest deliverability results per domain and the expiry of each installed certificate, as the scheduled jobs
// last saw them (health, cert-watch) — what `/metrics` and `/healthz` show without running anything.

import type { DatabaseSync } from 'node:sqlite';

export interface StoredCheckResults {
  domain: string;
  checkedAt: string;
  worst: string;
  checks: Array<{ id: string; status: string; port?: number }>;
}

export function saveCheckResults(database: DatabaseSync, results: StoredCheckResults): void {
  database
    .prepare(
      `INSERT INTO check_results (domain, checked_at, worst, checks) VALUES (?, ?, ?, ?)
    ON CONFLICT (domain) DO UPDATE SET checked_at = excluded.checked_at, worst = excluded.worst, checks = excluded.checks`
    )
    .run(results.domain, results.checkedAt, results.worst, JSON.stringify(results.checks));
}

export function latestCheckResults(database: DatabaseSync): StoredCheckResults[] {
  const rows = database.prepare('SELECT * FROM check_results ORDER BY domain').all() as Array<{
    domain: string;
    checked_at: string;
    worst: string;
    checks: string;
  }>;
  return rows.map((row) => ({
    domain: row.domain,
    checkedAt: row.checked_at,
    worst: row.worst,
    checks: JSON.parse(row.checks) as StoredCheckResults['checks'],
  }));
}

/**
 * Replaces the certificates known: one row per installed certificate, with its expiry (undefined: unreadable) and the
 * start of the CA's renewal window (ARI), when the CA offers one.
 */
export function saveCertificateExpiries(
  database: DatabaseSync,
  certificates: Array<{ name: string; notAfter: string | undefined; renewalWindow?: { start: string; end: string } }>,
  checkedAt: Date
): void {
  database.exec('BEGIN');
  try {
    database.prepare('DELETE FROM certificate_expiries').run();
    const insert = database.prepare(
      'INSERT INTO certificate_expiries (name, not_after, checked_at, renewal_window_start) VALUES (?, ?, ?, ?)'
    );
    for (const certificate of certificates)
      insert.run(certificate.name, certificate.notAfter ?? null, checkedAt.toISOString(), certificate.renewalWindow?.start ?? null);
    database.exec('COMMIT');
  } catch (error) {
    database.exec('ROLLBACK');
    throw error;
  }
}

const dayMs = 24 * 60 * 60 * 1000;

/** Each known certificate's days left at `now` (undefined when its expiry could not be read). */
export function certificateDaysLeft(
  database: DatabaseSync,
  now: Date
): Array<{
  name: string;
  notAfter: string | undefined;
  daysLeft: number | undefined;
  checkedAt: string;
  renewalWindowStart: string | undefined;
}> {
  const rows = database.prepare('SELECT * FROM certificate_expiries ORDER BY name').all() as Array<{
    name: string;
    not_after: string | null;
    checked_at: string;
    renewal_window_start: string | null;
  }>;
  return rows.map((row) => ({
    name: row.name,
    renewalWindowStart: row.renewal_window_start ?? undefined,
    notAfter: row.not_after ?? undefined,
    daysLeft: row.not_after === null ? undefined : Math.round(((new Date(row.not_after).getTime() - now.getTime()) / dayMs) * 10) / 10,
    checkedAt: row.checked_at,
  }));
}
