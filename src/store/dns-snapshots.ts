// The accepted DNS state of each domain (dns-drift): the answers, by `name type`, that count as right. Recorded when
// a record is first seen, replaced by `dns-diff <domain> --accept`.

import type { DatabaseSync } from 'node:sqlite';

export interface DnsSnapshot {
  domain: string;
  /** Normalised answer values by `name TYPE` (`_dmarc.example.com TXT`). */
  records: Record<string, string[]>;
  acceptedAt: string;
  acceptedBy: string;
}

export function dnsSnapshot(database: DatabaseSync, domain: string): DnsSnapshot | undefined {
  const row = database.prepare('SELECT * FROM dns_snapshots WHERE domain = ?').get(domain) as
    { domain: string; records: string; accepted_at: string; accepted_by: string } | undefined;
  if (row === undefined) return undefined;
  return {
    domain: row.domain,
    records: JSON.parse(row.records) as Record<string, string[]>,
    acceptedAt: row.accepted_at,
    acceptedBy: row.accepted_by,
  };
}

export function saveDnsSnapshot(database: DatabaseSync, snapshot: DnsSnapshot): void {
  database
    .prepare(
      `INSERT INTO dns_snapshots (domain, records, accepted_at, accepted_by) VALUES (?, ?, ?, ?)
    ON CONFLICT (domain) DO UPDATE SET records = excluded.records, accepted_at = excluded.accepted_at, accepted_by = excluded.accepted_by`
    )
    .run(snapshot.domain, JSON.stringify(snapshot.records), snapshot.acceptedAt, snapshot.acceptedBy);
}
