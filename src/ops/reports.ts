// What receivers and chasquid say about our mail: the reports job's two readings and the summary `reports` shows.
//
//   collectReports   the spool of the report address (report-inbox.ts): each message is read over the host transport,
//                    parsed as a DMARC aggregate or TLS report (src/reports, hostile input: limits on everything),
//                    stored in STATE_DB (once per reporter and report id) or set aside (once per content), and only then
//                    removed from the spool. A crash in between leaves the message in the spool; the next run stores
//                    nothing twice.
//   readMailLog      chasquid's mail log, from where the last run stopped (its inode and offset, kept with the events in
//                    one transaction), through a rotation (mailops-host serves the rest of the rotated file first):
//                    queued messages, and each delivery attempt to a remote server with its result and reply.
//   reportsSummary   per domain and period: DMARC messages, pass rate, reporters, sending sources (IP, reverse name, this
//                    host or not), TLS-RPT sessions, and delivery results.

import { createHash } from 'node:crypto';
import path from 'node:path';
import { parseChasquidConf } from '../chasquid/config-file.ts';
import { chasquidHostname } from '../chasquid/hostname.ts';
import { ChasquidPaths } from '../chasquid/paths.ts';
import { mailHostAddresses, parseInterfaceAddresses, sameAddress } from '../checks/host-addresses.ts';
import { DnsResolver } from '../dns/caching-resolver.ts';
import { usageError } from '../errors.ts';
import { readMailLogPiece } from '../host/mail-log.ts';
import { discardSpooledReport } from '../host/report-spool.ts';
import { parseMailLogChunk, type MailLogEvent } from '../reports/mail-log.ts';
import { readReportMessage } from '../reports/read-message.ts';
import type { ParsedReport } from '../reports/types.ts';
import {
  deliveryCounts,
  dmarcRows,
  mailLogPosition,
  permanentFailures,
  recordDelivery,
  recordQueueDone,
  recordQueued,
  saveMailLogPosition,
  setReportAside,
  storeReport,
  stuckQueueItems,
  tlsPolicies,
  type StoredDelivery,
} from '../store/reports.ts';
import { managedDomain } from '../validation/domain.ts';
import { managedDomains, type OperationContext } from './context.ts';
import { reportSpoolDirectory } from './report-inbox.ts';

/** At most this many spooled messages are read in one run; the rest wait for the next. */
const messagesPerRun = 500;
/** The bytes of a set-aside message kept to look at. */
const setAsideHeadBytes = 64 * 1024;
// As mailops-host allows them (classify_data): letters, digits and hyphens, at most 128 characters.
const spooledName = /^[0-9A-Za-z][0-9A-Za-z-]{0,127}\.eml$/;

function transaction<T>(context: OperationContext, work: () => T): T {
  context.database.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    context.database.exec('COMMIT');
    return result;
  } catch (error) {
    context.database.exec('ROLLBACK');
    throw error;
  }
}

export interface CollectedReports {
  /** Reports stored for the first time in this run. */
  stored: ParsedReport[];
  /** Reports that were stored already (sent or delivered twice). */
  duplicates: number;
  /** Messages set aside for the first time in this run, and why. */
  setAside: Array<{ sha256: string; reason: string; size: number }>;
  /** Messages left in the spool for the next run (more than one run reads). */
  left: number;
}

async function spoolDirectory(context: OperationContext): Promise<string> {
  const paths = new ChasquidPaths(context.chasquidDir);
  return reportSpoolDirectory(parseChasquidConf((await context.host.files.read(paths.configFile))?.toString('utf8') ?? ''));
}

/** Reads, stores and removes the messages waiting in the report spool. */
export async function collectReports(context: OperationContext): Promise<CollectedReports> {
  const directory = await spoolDirectory(context);
  const entries = ((await context.host.files.list(directory)) ?? []).filter(
    (entry) => entry.type === 'file' && spooledName.test(entry.name)
  );
  const collected: CollectedReports = { stored: [], duplicates: 0, setAside: [], left: Math.max(0, entries.length - messagesPerRun) };
  for (const entry of entries.slice(0, messagesPerRun)) {
    const file = path.posix.join(directory, entry.name);
    const raw = await context.host.files.read(file);
    if (raw === undefined) continue;
    const read = await readReportMessage(raw);
    const receivedAt = context.now();
    transaction(context, () => {
      if (read.status === 'rejected') {
        const sha256 = createHash('sha256').update(raw).digest('hex');
        if (
          setReportAside(
            context.database,
            { sha256, reason: read.reason, size: raw.length, head: raw.subarray(0, setAsideHeadBytes) },
            receivedAt
          )
        ) {
          collected.setAside.push({ sha256, reason: read.reason, size: raw.length });
        }
        return;
      }
      for (const report of read.reports) {
        if (storeReport(context.database, report, receivedAt)) collected.stored.push(report);
        else collected.duplicates += 1;
      }
    });
    // Only once it is stored: a run that stops before this finds the message again and stores nothing twice.
    await discardSpooledReport(context.host.verbs, file);
  }
  return collected;
}

export type MailLogReading =
  { source: 'file'; events: number; deliveries: StoredDelivery[] } | { source: 'syslog' } | { source: 'missing' };

/** The first read of a log never looked at starts this far from its end (older lines are history, not news). */
const firstReadBytes = 2 * 1024 * 1024;
const piecesPerRun = 64;

/** Reads the mail log from where the last run stopped and stores what it says; returns the new delivery results. */
export async function readMailLog(context: OperationContext): Promise<MailLogReading> {
  const local = new Set(managedDomains(context.config));
  const deliveries: StoredDelivery[] = [];
  let events = 0;
  let position = mailLogPosition(context.database);
  let skipFirstLine = false;
  for (let piece = 0; piece < piecesPerRun; piece += 1) {
    const read = await readMailLogPiece(context.host.verbs, { inode: position.inode, offset: position.offset });
    if (read.source !== 'file') return { source: read.source };
    if (position.inode === '0' && read.start === 0 && read.size > firstReadBytes) {
      position = { inode: read.inode, offset: read.size - firstReadBytes, partial: '' };
      skipFirstLine = true;
      continue;
    }
    const continues = read.inode === position.inode && read.start === position.offset;
    const previous = continues ? Buffer.from(position.partial, 'latin1') : Buffer.alloc(0);
    const data = Buffer.concat([previous, read.data]);
    const lastNewline = data.lastIndexOf(10);
    let complete = lastNewline < 0 ? '' : data.subarray(0, lastNewline + 1).toString('utf8');
    if (skipFirstLine) {
      complete = complete.slice(complete.indexOf('\n') + 1);
      skipFirstLine = false;
    }
    const partial = data.subarray(lastNewline + 1);
    const parsed = parseMailLogChunk(complete).events;
    const readAt = context.now();
    const next = { inode: read.inode, offset: read.start + read.data.length, partial: partial.toString('latin1') };
    transaction(context, () => {
      for (const event of parsed) {
        const delivery = storeEvent(context, event, readAt, local);
        if (delivery !== undefined) deliveries.push(delivery);
      }
      saveMailLogPosition(context.database, next, readAt);
    });
    events += parsed.length;
    const unchanged = next.inode === position.inode && next.offset === position.offset;
    position = next;
    if (unchanged || (read.data.length === 0 && read.start >= read.size)) break;
  }
  return { source: 'file', events, deliveries };
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** Stores one mail log event; returns the delivery it recorded (deliveries to remote servers only). */
function storeEvent(context: OperationContext, event: MailLogEvent, readAt: Date, local: ReadonlySet<string>): StoredDelivery | undefined {
  const at = event.at ?? readAt;
  switch (event.kind) {
    case 'queued':
      // When mailops first saw it, not the log's own time: chasquid writes local time without a zone, and a host a few
      // hours off UTC would make every message look stuck (or never) by that much. A job period late is fine.
      recordQueued(context.database, { queueId: event.id, sender: event.from, recipients: event.to, at: readAt });
      return undefined;
    case 'done':
      recordQueueDone(context.database, event.id, at);
      return undefined;
    case 'sent':
    case 'failed': {
      // Deliveries to our own domains (mailboxes, pipes) are not what receivers think of our mail.
      if (local.has(domainOf(event.to))) return undefined;
      const delivery: StoredDelivery = {
        queueId: event.id,
        at,
        sender: event.from,
        recipient: event.to,
        result: event.kind === 'sent' ? 'sent' : event.permanent ? 'permanent' : 'temporary',
        ...(event.kind === 'failed' ? { reply: event.reply } : {}),
      };
      recordDelivery(context.database, delivery);
      return delivery;
    }
    default:
      return undefined;
  }
}

// --- the summary -------------------------------------------------------------------------------------------------

/** `--since`: a number and a unit (h, d or w); at most a year. */
export function parseSince(text: string | undefined, now: Date): Date {
  const match = /^(\d{1,4})([hdw])$/.exec((text ?? '7d').trim());
  const hours = match ? Number(match[1]) * { h: 1, d: 24, w: 168 }[match[2] as 'h' | 'd' | 'w'] : Number.NaN;
  if (!match || hours <= 0 || hours > 366 * 24) {
    throw usageError(
      'invalid-since',
      `"${text}" is not a period mailops understands.`,
      'Give a number and a unit: 24h, 7d or 4w (at most a year).'
    );
  }
  return new Date(now.getTime() - hours * 3_600_000);
}

export interface ReportSource {
  ip: string;
  /** Its reverse name, when it has one. */
  ptr?: string;
  /** One of the mail host's addresses (else a forwarder, or someone sending as the domain). */
  ours: boolean;
  messages: number;
  dkimAligned: number;
  spfAligned: number;
}

export interface DomainReports {
  domain: string;
  since: string;
  dmarc: {
    reports: number;
    messages: number;
    /** Share of the messages that passed DMARC (aligned DKIM or SPF); null without any message reported. */
    passRate: number | null;
    reporters: Array<{ org: string; messages: number; passed: number }>;
    sources: ReportSource[];
  };
  tlsrpt: { reports: number; success: number; failure: number; failures: Array<{ type: string; count: number }> };
  delivery: {
    sent: number;
    failedTemporary: number;
    failedPermanent: number;
    /** The latest permanent failures: recipient, the remote server's reply, when. */
    permanent: Array<{ recipient: string; reply: string; at: string }>;
  };
}

/** Sources listed (by messages); the rest are summed into the counts only. */
const sourcesListed = 25;

/** The mail host's own addresses: its hostname's A and AAAA records and its interfaces' addresses. */
export async function ownAddresses(context: OperationContext, resolver: DnsResolver): Promise<string[]> {
  const paths = new ChasquidPaths(context.chasquidDir);
  const settings = parseChasquidConf((await context.host.files.read(paths.configFile))?.toString('utf8') ?? '');
  const hostname = await chasquidHostname(context.host, settings);
  const [a, aaaa, interfaces] = await Promise.all([
    resolver.lookup(hostname, 'A'),
    resolver.lookup(hostname, 'AAAA'),
    context.host.verbs
      .call('addresses')
      .then((result) => (result.code === 0 ? parseInterfaceAddresses(result.stdout.toString('utf8')) : undefined)),
  ]);
  const inDns = [...(a.status === 'ok' ? a.records : []), ...(aaaa.status === 'ok' ? aaaa.records : [])];
  return mailHostAddresses(inDns, interfaces).map((entry) => entry.address);
}

export async function domainReports(
  context: OperationContext,
  domain: string,
  since: Date,
  shared: { resolver: DnsResolver; own: Promise<string[]> }
): Promise<DomainReports> {
  const rows = dmarcRows(context.database, domain, since);
  const own = await shared.own;
  const reporters = new Map<string, { org: string; messages: number; passed: number }>();
  const sources = new Map<string, Omit<ReportSource, 'ptr' | 'ours'>>();
  let messages = 0;
  let passed = 0;
  for (const row of rows) {
    const pass = row.dkim === 'pass' || row.spf === 'pass';
    messages += row.count;
    if (pass) passed += row.count;
    const reporter = reporters.get(row.org) ?? { org: row.org, messages: 0, passed: 0 };
    reporter.messages += row.count;
    if (pass) reporter.passed += row.count;
    reporters.set(row.org, reporter);
    const source = sources.get(row.sourceIp) ?? { ip: row.sourceIp, messages: 0, dkimAligned: 0, spfAligned: 0 };
    source.messages += row.count;
    if (row.dkim === 'pass') source.dkimAligned += row.count;
    if (row.spf === 'pass') source.spfAligned += row.count;
    sources.set(row.sourceIp, source);
  }
  const listed = [...sources.values()].sort((a, b) => b.messages - a.messages).slice(0, sourcesListed);
  const named = await Promise.all(
    listed.map(async (source): Promise<ReportSource> => {
      const ptr = await shared.resolver.reverse(source.ip).catch(() => undefined);
      const name = ptr?.status === 'ok' ? ptr.records[0]?.replace(/\.$/, '') : undefined;
      return { ...source, ...(name ? { ptr: name } : {}), ours: own.some((address) => sameAddress(address, source.ip)) };
    })
  );
  const tls = tlsPolicies(context.database, domain, since);
  const failures = new Map<string, number>();
  for (const policy of tls)
    for (const failure of policy.failures) failures.set(failure.resultType, (failures.get(failure.resultType) ?? 0) + failure.count);
  const counts = deliveryCounts(context.database, domain, since);
  return {
    domain,
    since: since.toISOString(),
    dmarc: {
      reports: new Set(rows.map((row) => `${row.org}\n${row.reportId}`)).size,
      messages,
      passRate: messages === 0 ? null : passed / messages,
      reporters: [...reporters.values()].sort((a, b) => b.messages - a.messages),
      sources: named,
    },
    tlsrpt: {
      reports: tls.length,
      success: tls.reduce((sum, policy) => sum + policy.success, 0),
      failure: tls.reduce((sum, policy) => sum + policy.failure, 0),
      failures: [...failures].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count),
    },
    delivery: {
      sent: counts.sent,
      failedTemporary: counts.temporary,
      failedPermanent: counts.permanent,
      permanent: permanentFailures(context.database, domain, since, 5).map((entry) => ({
        recipient: entry.recipient,
        reply: entry.reply ?? '',
        at: entry.at.toISOString(),
      })),
    },
  };
}

export interface ReportsResult {
  since: string;
  domains: DomainReports[];
  /** Messages that have waited in chasquid's queue longer than QUEUE_STUCK_HOURS. */
  stuck: number;
  /** DMARC_PASS_RATE_MIN: a pass rate below it is a problem. */
  passRateMin: number;
}

/** `reports [<domain>] [--since 7d]`: the summary of one managed domain, or of each. Read-only. */
export async function reportsSummary(context: OperationContext, input: { domain?: string; since?: string }): Promise<ReportsResult> {
  const now = context.now();
  const since = parseSince(input.since, now);
  const domains =
    input.domain === undefined ? managedDomains(context.config) : [managedDomain(input.domain, managedDomains(context.config))];
  const resolver = new DnsResolver({ server: context.config.DNS_RESOLVER });
  const own = ownAddresses(context, resolver);
  own.catch(() => undefined);
  const shared = { resolver, own: own.catch(() => [] as string[]) };
  const summaries = await Promise.all(domains.map((domain) => domainReports(context, domain, since, shared)));
  const stuckBefore = new Date(now.getTime() - context.config.QUEUE_STUCK_HOURS * 3_600_000);
  return {
    since: since.toISOString(),
    domains: summaries,
    stuck: stuckQueueItems(context.database, stuckBefore).length,
    passRateMin: context.config.DMARC_PASS_RATE_MIN,
  };
}
