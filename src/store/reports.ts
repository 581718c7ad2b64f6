// The reports receivers sent and what chasquid's mail log said, as the reports job stored them (schema: `reports`).
// A report is stored once per reporter and report id (a reporter that sends the same report twice, or a message
// delivered twice, counts once); a message that could not be read is kept aside once per content, with its first
// bytes for whoever wants to look.

import type { DatabaseSync } from 'node:sqlite';
import type { ParsedReport } from '../reports/types.ts';

/** Stores a parsed report; false when the same reporter's report of that id is stored already. */
export function storeReport(database: DatabaseSync, report: ParsedReport, receivedAt: Date): boolean {
  const table = report.kind === 'dmarc' ? 'dmarc_reports' : 'tls_reports';
  const known = database.prepare(`SELECT id FROM ${table} WHERE org = ? AND report_id = ?`).get(report.orgName, report.reportId);
  if (known !== undefined) return false;
  if (report.kind === 'dmarc') {
    const { lastInsertRowid } = database
      .prepare(
        'INSERT INTO dmarc_reports (org, report_id, domain, reporter_email, begin_at, end_at, policy, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'
      )
      .run(
        report.orgName,
        report.reportId,
        report.domain,
        report.reporterEmail ?? null,
        report.begin.toISOString(),
        report.end.toISOString(),
        JSON.stringify(report.policy),
        receivedAt.toISOString()
      );
    const row = database.prepare(
      'INSERT INTO dmarc_records (report, source_ip, count, header_from, dkim, spf, disposition, auth) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'
    );
    for (const record of report.records) {
      row.run(
        lastInsertRowid,
        record.sourceIp,
        record.count,
        record.headerFrom,
        record.dkim,
        record.spf,
        record.disposition,
        JSON.stringify({ dkim: record.dkimAuth, spf: record.spfAuth })
      );
    }
    return true;
  }
  const { lastInsertRowid } = database
    .prepare('INSERT INTO tls_reports (org, report_id, contact, begin_at, end_at, received_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(
      report.orgName,
      report.reportId,
      report.contact ?? null,
      report.begin.toISOString(),
      report.end.toISOString(),
      receivedAt.toISOString()
    );
  const policy = database.prepare(
    'INSERT INTO tls_policies (report, policy_type, policy_domain, success, failure, failures) VALUES (?, ?, ?, ?, ?, ?)'
  );
  for (const entry of report.policies) {
    policy.run(lastInsertRowid, entry.policyType, entry.policyDomain, entry.success, entry.failure, JSON.stringify(entry.failures));
  }
  return true;
}

export interface SetAsideReport {
  sha256: string;
  reason: string;
  size: number;
  /** The message's first bytes, to look at. */
  head: Buffer;
}

/** Keeps a message that could not be read; false when the same content was set aside before. */
export function setReportAside(database: DatabaseSync, report: SetAsideReport, receivedAt: Date): boolean {
  const result = database
    .prepare(
      'INSERT INTO set_aside_reports (sha256, received_at, reason, size, head) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING'
    )
    .run(report.sha256, receivedAt.toISOString(), report.reason, report.size, report.head);
  return Number(result.changes) > 0;
}

export function setAsideCount(database: DatabaseSync): number {
  return (database.prepare('SELECT count(*) AS n FROM set_aside_reports').get() as { n: number }).n;
}

/** One DMARC row of a domain's reports whose period ended after `since`. */
export interface StoredDmarcRow {
  org: string;
  reportId: string;
  sourceIp: string;
  count: number;
  dkim: string;
  spf: string;
  disposition: string;
}

export function dmarcRows(database: DatabaseSync, domain: string, since: Date): StoredDmarcRow[] {
  return database
    .prepare(
      `SELECT r.org AS org, r.report_id AS reportId, d.source_ip AS sourceIp, d.count AS count, d.dkim AS dkim, d.spf AS spf,
              d.disposition AS disposition
         FROM dmarc_records d JOIN dmarc_reports r ON r.id = d.report
        WHERE r.domain = ? AND r.end_at > ?
        ORDER BY r.end_at, r.id`
    )
    .all(domain, since.toISOString()) as unknown as StoredDmarcRow[];
}

export interface StoredTlsPolicy {
  org: string;
  success: number;
  failure: number;
  failures: Array<{ resultType: string; count: number; receivingMxHostname?: string; sendingMtaIp?: string }>;
}

export function tlsPolicies(database: DatabaseSync, domain: string, since: Date): StoredTlsPolicy[] {
  const rows = database
    .prepare(
      `SELECT r.org AS org, p.success AS success, p.failure AS failure, p.failures AS failures
         FROM tls_policies p JOIN tls_reports r ON r.id = p.report
        WHERE p.policy_domain = ? AND r.end_at > ?
        ORDER BY r.end_at, r.id`
    )
    .all(domain, since.toISOString()) as Array<{ org: string; success: number; failure: number; failures: string }>;
  return rows.map((row) => ({ ...row, failures: JSON.parse(row.failures) as StoredTlsPolicy['failures'] }));
}

// --- chasquid's mail log -----------------------------------------------------------------------------------------

export interface MailLogPosition {
  /** The log file's inode ("0" before the first read). */
  inode: string;
  offset: number;
  /** A line the last read ended in the middle of. */
  partial: string;
}

export function mailLogPosition(database: DatabaseSync): MailLogPosition {
  const row = database.prepare('SELECT inode, offset, partial FROM mail_log_position WHERE id = 1').get() as MailLogPosition | undefined;
  return row ?? { inode: '0', offset: 0, partial: '' };
}

export function saveMailLogPosition(database: DatabaseSync, position: MailLogPosition, readAt: Date): void {
  database
    .prepare(
      `INSERT INTO mail_log_position (id, inode, offset, partial, read_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET inode = excluded.inode, offset = excluded.offset, partial = excluded.partial, read_at = excluded.read_at`
    )
    .run(position.inode, position.offset, position.partial, readAt.toISOString());
}

export type DeliveryResult = 'sent' | 'temporary' | 'permanent';

export interface StoredDelivery {
  queueId: string;
  at: Date;
  sender: string;
  recipient: string;
  result: DeliveryResult;
  reply?: string;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export function recordQueued(database: DatabaseSync, item: { queueId: string; sender: string; recipients: string[]; at: Date }): void {
  database
    .prepare('INSERT INTO queue_items (queue_id, sender, recipients, queued_at) VALUES (?, ?, ?, ?) ON CONFLICT (queue_id) DO NOTHING')
    .run(item.queueId, item.sender, JSON.stringify(item.recipients), item.at.toISOString());
}

export function recordQueueDone(database: DatabaseSync, queueId: string, at: Date): void {
  database.prepare('UPDATE queue_items SET done_at = ? WHERE queue_id = ? AND done_at IS NULL').run(at.toISOString(), queueId);
}

export function recordDelivery(database: DatabaseSync, delivery: StoredDelivery): void {
  database
    .prepare('INSERT INTO deliveries (queue_id, at, sender, sender_domain, recipient, result, reply) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(
      delivery.queueId,
      delivery.at.toISOString(),
      delivery.sender,
      domainOf(delivery.sender),
      delivery.recipient,
      delivery.result,
      delivery.reply ?? null
    );
}

/** How many deliveries from `domain` (the sender's) ended each way since `since`; all domains when undefined. */
export function deliveryCounts(database: DatabaseSync, domain: string | undefined, since: Date): Record<DeliveryResult, number> {
  const rows = database
    .prepare(`SELECT result, count(*) AS n FROM deliveries WHERE at > ? AND (? IS NULL OR sender_domain = ?) GROUP BY result`)
    .all(since.toISOString(), domain ?? null, domain ?? null) as Array<{ result: DeliveryResult; n: number }>;
  const counts: Record<DeliveryResult, number> = { sent: 0, temporary: 0, permanent: 0 };
  for (const row of rows) counts[row.result] = row.n;
  return counts;
}

/** Permanent failures of deliveries from `domain` since `since` (newest first, at most `limit`). */
export function permanentFailures(database: DatabaseSync, domain: string | undefined, since: Date, limit = 20): StoredDelivery[] {
  const rows = database
    .prepare(
      `SELECT queue_id AS queueId, at, sender, recipient, result, reply FROM deliveries
        WHERE result = 'permanent' AND at > ? AND (? IS NULL OR sender_domain = ?) ORDER BY at DESC LIMIT ?`
    )
    .all(since.toISOString(), domain ?? null, domain ?? null, limit) as Array<
    Omit<StoredDelivery, 'at'> & { at: string; reply: string | null }
  >;
  return rows.map(({ at, reply, ...row }) => ({ ...row, at: new Date(at), ...(reply === null ? {} : { reply }) }));
}

/** Queue items not done that were queued before `before`, oldest first. */
export function stuckQueueItems(
  database: DatabaseSync,
  before: Date
): Array<{ queueId: string; sender: string; recipients: string[]; queuedAt: Date }> {
  const rows = database
    .prepare(
      'SELECT queue_id AS queueId, sender, recipients, queued_at AS queuedAt FROM queue_items WHERE done_at IS NULL AND queued_at < ? ORDER BY queued_at'
    )
    .all(before.toISOString()) as Array<{ queueId: string; sender: string; recipients: string; queuedAt: string }>;
  return rows.map((row) => ({ ...row, recipients: JSON.parse(row.recipients) as string[], queuedAt: new Date(row.queuedAt) }));
}

/** Totals for /metrics. */
export function reportTotals(database: DatabaseSync): {
  dmarc: Array<{ domain: string; result: 'pass' | 'fail'; messages: number }>;
  tls: Array<{ domain: string; result: 'success' | 'failure'; sessions: number }>;
  deliveries: Array<{ result: DeliveryResult; count: number }>;
  setAside: number;
} {
  const dmarc = database
    .prepare(
      `SELECT r.domain AS domain, CASE WHEN d.dkim = 'pass' OR d.spf = 'pass' THEN 'pass' ELSE 'fail' END AS result, sum(d.count) AS messages
         FROM dmarc_records d JOIN dmarc_reports r ON r.id = d.report GROUP BY 1, 2`
    )
    .all() as Array<{ domain: string; result: 'pass' | 'fail'; messages: number }>;
  const tlsRows = database
    .prepare('SELECT policy_domain AS domain, sum(success) AS success, sum(failure) AS failure FROM tls_policies GROUP BY 1')
    .all() as Array<{ domain: string; success: number; failure: number }>;
  const tls = tlsRows.flatMap((row) => [
    { domain: row.domain, result: 'success' as const, sessions: row.success },
    { domain: row.domain, result: 'failure' as const, sessions: row.failure },
  ]);
  const deliveries = database.prepare('SELECT result, count(*) AS count FROM deliveries GROUP BY result').all() as Array<{
    result: DeliveryResult;
    count: number;
  }>;
  return { dmarc, tls, deliveries, setAside: setAsideCount(database) };
}
