// The CA's renewal information (ARI, RFC 9773) as last fetched, per certificate (its ARI identifier): the suggested
// window, the time chosen at random inside it (kept, so that cert-status, cert-renew and the next runs agree on one
// time for one window), and when the CA may be asked again (its Retry-After).

import type { DatabaseSync } from 'node:sqlite';

export interface StoredRenewalInfo {
  certificateId: string;
  start: Date;
  end: Date;
  explanationUrl?: string;
  renewAt: Date;
  nextPollAt: Date;
  fetchedAt: Date;
}

interface Row {
  certificate_id: string;
  window_start: string;
  window_end: string;
  explanation_url: string | null;
  renew_at: string;
  next_poll_at: string;
  fetched_at: string;
}

export function loadRenewalInfo(database: DatabaseSync, certificateId: string): StoredRenewalInfo | undefined {
  const row = database.prepare('SELECT * FROM renewal_info WHERE certificate_id = ?').get(certificateId) as Row | undefined;
  if (row === undefined) return undefined;
  return {
    certificateId: row.certificate_id,
    start: new Date(row.window_start),
    end: new Date(row.window_end),
    ...(row.explanation_url === null ? {} : { explanationUrl: row.explanation_url }),
    renewAt: new Date(row.renew_at),
    nextPollAt: new Date(row.next_poll_at),
    fetchedAt: new Date(row.fetched_at),
  };
}

/** Saves what was fetched for one certificate, and forgets certificates not seen for 400 days (long replaced). */
export function saveRenewalInfo(database: DatabaseSync, info: StoredRenewalInfo): void {
  database
    .prepare(
      `INSERT INTO renewal_info (certificate_id, window_start, window_end, explanation_url, renew_at, next_poll_at, fetched_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (certificate_id) DO UPDATE SET window_start = excluded.window_start, window_end = excluded.window_end,
         explanation_url = excluded.explanation_url, renew_at = excluded.renew_at, next_poll_at = excluded.next_poll_at,
         fetched_at = excluded.fetched_at`
    )
    .run(
      info.certificateId,
      info.start.toISOString(),
      info.end.toISOString(),
      info.explanationUrl ?? null,
      info.renewAt.toISOString(),
      info.nextPollAt.toISOString(),
      info.fetchedAt.toISOString()
    );
  database
    .prepare('DELETE FROM renewal_info WHERE fetched_at < ?')
    .run(new Date(info.fetchedAt.getTime() - 400 * 24 * 60 * 60 * 1000).toISOString());
}

/** What the CA's order said about a certificate mailops obtained (by its ARI identifier). */
export function saveIssuedCertificate(
  database: DatabaseSync,
  issued: { certificateId: string; profile?: string; replaced?: string; issuedAt: Date }
): void {
  database
    .prepare(
      `INSERT INTO issued_certificates (certificate_id, profile, replaced, issued_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (certificate_id) DO UPDATE SET profile = excluded.profile, replaced = excluded.replaced, issued_at = excluded.issued_at`
    )
    .run(issued.certificateId, issued.profile ?? null, issued.replaced ?? null, issued.issuedAt.toISOString());
}

/** The profile a certificate was ordered with, when mailops ordered it under one. */
export function issuedProfile(database: DatabaseSync, certificateId: string): string | undefined {
  const row = database.prepare('SELECT profile FROM issued_certificates WHERE certificate_id = ?').get(certificateId) as
    { profile: string | null } | undefined;
  return row?.profile ?? undefined;
}

/** mailops's account URL at the CA of this directory, as the CA last answered it. */
export function saveAcmeAccount(database: DatabaseSync, directoryUrl: string, accountUrl: string, seenAt: Date): void {
  database
    .prepare(
      `INSERT INTO acme_accounts (directory_url, account_url, seen_at) VALUES (?, ?, ?)
       ON CONFLICT (directory_url) DO UPDATE SET account_url = excluded.account_url, seen_at = excluded.seen_at`
    )
    .run(directoryUrl, accountUrl, seenAt.toISOString());
}

export function acmeAccount(database: DatabaseSync, directoryUrl: string): string | undefined {
  const row = database.prepare('SELECT account_url FROM acme_accounts WHERE directory_url = ?').get(directoryUrl) as
    { account_url: string } | undefined;
  return row?.account_url;
}
