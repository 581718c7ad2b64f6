// The reports job (CRON_REPORTS, hourly): makes sure every domain's report address exists, stores the reports waiting
// in its spool and reads chasquid's mail log (src/ops/reports.ts), then says what changed, as alerts that follow
// conditions (one message when a condition starts or changes, a recovery when it ends, nothing while it lasts):
//
//   dmarc-misaligned     a receiver saw mail from one of this host's addresses fail DKIM or SPF alignment (critical:
//                        such mail is what receivers reject); and, separately, a domain's DMARC pass rate over the last
//                        week fell below DMARC_PASS_RATE_MIN (someone else sends as the domain, or forwarders break it)
//   tls-report-failures  a TLS report counted failed sessions to our MX (by result type)
//   delivery-failed      a remote server refused our mail for good, where the refusal is about us (5.7.x: policy,
//                        authentication, reputation) or comes from a large mailbox provider — with its reply and the
//                        likely fix (critical); a later delivery to that domain that goes through is its recovery
//   queue-stuck          messages waited in chasquid's queue longer than QUEUE_STUCK_HOURS
//
// A message of the spool that could not be read is set aside and reported once, as a notice.

import { sameAddress } from '../../checks/host-addresses.ts';
import { DnsResolver } from '../../dns/caching-resolver.ts';
import { managedDomains } from '../../ops/context.ts';
import { ensureReportInboxes } from '../../ops/report-inbox.ts';
import { collectReports, domainReports, ownAddresses, readMailLog } from '../../ops/reports.ts';
import { likelyFix, mailboxProvider } from '../../reports/delivery-advice.ts';
import type { DmarcAggregateReport, TlsReport } from '../../reports/types.ts';
import { stuckQueueItems, type StoredDelivery } from '../../store/reports.ts';
import { displayDomain } from '../../validation/domain.ts';
import type { Job, JobEnvironment } from '../job.ts';
import type { JobAlert } from '../outcome.ts';

const week = 7 * 24 * 3_600_000;

/**
 * A name a reporter or a remote server chose, or an address from the mail log, for an alert's text (rendered as
 * markdown in Discord): only the characters such names are made of; anything else becomes "?".
 */
export function plainName(text: string): string {
  return text.replace(/[^A-Za-z0-9._@+-]/g, '?').slice(0, 80);
}

/** A remote server's reply in an alert's text: its first 300 characters of words and punctuation, on one line. */
function plainReply(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return `${line.slice(0, 300).replace(/[^A-Za-z0-9 .,:;'/=+-]/g, '?')}${line.length > 300 ? '…' : ''}`;
}

interface ConditionState {
  detail: string;
}

/** Opens (or changes) the alert `key` when `fingerprint` is new; returns whether a message is due. */
function raise(environment: JobEnvironment, key: string, kind: JobAlert['kind'], fingerprint: string, detail: string): boolean {
  const open = environment.alerts.get<ConditionState>(key);
  if (open?.fingerprint === fingerprint) return false;
  environment.alerts.save<ConditionState>({
    key,
    kind,
    fingerprint,
    updatedAt: environment.context.now().toISOString(),
    state: { detail },
  });
  return true;
}

/** Closes the alert `key` if it is open; returns whether it was. */
function recover(environment: JobEnvironment, key: string): boolean {
  if (environment.alerts.get(key) === undefined) return false;
  environment.alerts.close(key);
  return true;
}

function recovery(subject: string, message: string): JobAlert {
  return { kind: 'recovery', severity: 'resolved', subject, message };
}

/** mail from our own addresses, in the new DMARC reports, by domain: which alignments failed, where. */
function ownMisalignment(
  reports: DmarcAggregateReport[],
  own: string[]
): Map<string, { failed: Set<'DKIM' | 'SPF'>; reporters: Set<string>; messages: number; seen: number }> {
  const byDomain = new Map<string, { failed: Set<'DKIM' | 'SPF'>; reporters: Set<string>; messages: number; seen: number }>();
  for (const report of reports) {
    for (const record of report.records) {
      if (!own.some((address) => sameAddress(address, record.sourceIp))) continue;
      const entry = byDomain.get(report.domain) ?? { failed: new Set(), reporters: new Set(), messages: 0, seen: 0 };
      entry.seen += record.count;
      if (record.dkim !== 'pass') entry.failed.add('DKIM');
      if (record.spf !== 'pass') entry.failed.add('SPF');
      if (record.dkim !== 'pass' || record.spf !== 'pass') {
        entry.reporters.add(report.orgName);
        entry.messages += record.count;
      }
      byDomain.set(report.domain, entry);
    }
  }
  return byDomain;
}

function dmarcAlerts(environment: JobEnvironment, reports: DmarcAggregateReport[], own: string[]): JobAlert[] {
  const alerts: JobAlert[] = [];
  const managed = new Set(managedDomains(environment.runtime.config));
  for (const [domain, entry] of ownMisalignment(reports, own)) {
    // A report about a domain we do not manage says nothing about our mail.
    if (!managed.has(domain)) continue;
    const key = `dmarc-misaligned:${domain}`;
    const shown = displayDomain(domain);
    if (entry.failed.size === 0) {
      if (recover(environment, key)) {
        alerts.push(
          recovery(
            `${shown}: mail from this host is aligned again`,
            `Receivers report mail from this host as DKIM- and SPF-aligned for ${shown} again.`
          )
        );
      }
      continue;
    }
    const failed = [...entry.failed].sort().join(' and ');
    if (!raise(environment, key, 'dmarc-misaligned', failed, `${entry.messages} messages`)) continue;
    const fix = entry.failed.has('DKIM')
      ? `Run \`mailops check ${shown}\`: it shows whether the DKIM record in DNS matches chasquid's key (\`mailops dkim-show ${shown}\`, \`mailops dkim-rotate ${shown}\` to replace a broken key).`
      : `Run \`mailops check ${shown}\`: the SPF record must list this host's addresses.`;
    alerts.push({
      kind: 'dmarc-misaligned',
      severity: 'critical',
      subject: `${shown}: receivers see this host's mail fail ${failed} alignment`,
      message: `${[...entry.reporters].map(plainName).sort().join(', ')} reported ${entry.messages} message(s) from this host's addresses for ${shown} whose ${failed} did not align with the From domain. Receivers that enforce DMARC reject or junk such mail. ${fix}`,
    });
  }
  return alerts;
}

function passRateAlert(environment: JobEnvironment, domain: string, messages: number, passRate: number | null): JobAlert[] {
  const key = `dmarc-pass-rate:${domain}`;
  const shown = displayDomain(domain);
  const minimum = environment.runtime.config.DMARC_PASS_RATE_MIN;
  if (passRate === null) return [];
  const percent = (rate: number) => `${Math.round(rate * 1000) / 10}%`;
  if (passRate >= minimum) {
    return recover(environment, key)
      ? [
          recovery(
            `${shown}: DMARC pass rate back to ${percent(passRate)}`,
            `Over the last week ${percent(passRate)} of ${messages} reported messages passed DMARC.`
          ),
        ]
      : [];
  }
  // Followed in steps of ten points, so that small moves do not repeat the alert.
  if (!raise(environment, key, 'dmarc-misaligned', `below:${Math.floor(passRate * 10)}`, percent(passRate))) return [];
  return [
    {
      kind: 'dmarc-misaligned',
      severity: 'warning',
      subject: `${shown}: only ${percent(passRate)} of reported mail passed DMARC`,
      message: `Over the last week receivers reported ${messages} message(s) as ${shown}; only ${percent(passRate)} passed DMARC (at least ${percent(minimum)} expected, DMARC_PASS_RATE_MIN). Run \`mailops reports ${shown}\` to see the sending sources: addresses that are not this host are forwarders or someone sending as the domain.`,
    },
  ];
}

function tlsAlerts(environment: JobEnvironment, reports: TlsReport[]): JobAlert[] {
  const alerts: JobAlert[] = [];
  interface DomainSessions {
    failures: Map<string, number>;
    failure: number;
    success: number;
    reporters: Set<string>;
  }
  const byDomain = new Map<string, DomainSessions>();
  for (const report of reports) {
    for (const policy of report.policies) {
      const entry: DomainSessions = byDomain.get(policy.policyDomain) ?? {
        failures: new Map<string, number>(),
        failure: 0,
        success: 0,
        reporters: new Set<string>(),
      };
      entry.failure += policy.failure;
      entry.success += policy.success;
      entry.reporters.add(report.orgName);
      for (const detail of policy.failures)
        entry.failures.set(detail.resultType, (entry.failures.get(detail.resultType) ?? 0) + detail.count);
      byDomain.set(policy.policyDomain, entry);
    }
  }
  for (const [domain, entry] of byDomain) {
    if (!managedDomains(environment.runtime.config).includes(domain)) continue;
    const key = `tls-report-failures:${domain}`;
    const shown = displayDomain(domain);
    if (entry.failure === 0) {
      if (recover(environment, key))
        alerts.push(
          recovery(
            `${shown}: TLS reports show no failures again`,
            `The latest TLS reports for ${shown} count ${entry.success} successful sessions and no failures.`
          )
        );
      continue;
    }
    const types = [...entry.failures].sort((a, b) => b[1] - a[1]);
    const fingerprint =
      types
        .map(([type]) => type)
        .sort()
        .join(',') || 'unspecified';
    if (!raise(environment, key, 'tls-report-failures', fingerprint, `${entry.failure} failed`)) continue;
    alerts.push({
      kind: 'tls-report-failures',
      severity: 'warning',
      subject: `${shown}: senders failed to reach it over TLS (${entry.failure} sessions)`,
      message: `${[...entry.reporters].map(plainName).sort().join(', ')} reported ${entry.failure} failed and ${entry.success} successful TLS sessions to ${shown}'s mail servers${types.length > 0 ? ` (${types.map(([type, count]) => `${plainName(type)}: ${count}`).join(', ')})` : ''}. Run \`mailops cert-status\` and \`mailops check ${shown}\`: certificate and MTA-STS problems show there.`,
    });
  }
  return alerts;
}

const recipientDomain = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** Whether a permanent failure is about us (and so an alert) rather than about one recipient. */
function aboutUs(delivery: StoredDelivery): boolean {
  const code = likelyFix(delivery.reply ?? '').code ?? '';
  if (/^5\.7\./.test(code)) return true;
  if (/^5\.[12]\./.test(code)) return false;
  return mailboxProvider(recipientDomain(delivery.recipient)) !== undefined;
}

function deliveryAlerts(environment: JobEnvironment, deliveries: StoredDelivery[]): JobAlert[] {
  const alerts: JobAlert[] = [];
  const latest = new Map<string, StoredDelivery>();
  for (const delivery of deliveries) if (delivery.result !== 'temporary') latest.set(recipientDomain(delivery.recipient), delivery);
  for (const [domain, delivery] of latest) {
    const key = `delivery-failed:${domain}`;
    const provider = mailboxProvider(domain);
    const where = provider === undefined ? plainName(domain) : `${provider} (${plainName(domain)})`;
    if (delivery.result === 'sent') {
      if (recover(environment, key))
        alerts.push(
          recovery(`Mail to ${where} is delivered again`, `${plainName(delivery.sender)} → ${plainName(delivery.recipient)} was accepted.`)
        );
      continue;
    }
    if (!aboutUs(delivery)) continue;
    const advice = likelyFix(delivery.reply ?? '', recipientDomain(delivery.sender));
    if (!raise(environment, key, 'delivery-failed', advice.code ?? 'permanent', delivery.reply ?? '')) continue;
    alerts.push({
      kind: 'delivery-failed',
      severity: 'critical',
      subject: `${where} refused mail from ${plainName(recipientDomain(delivery.sender))}${advice.code ? ` (${plainName(advice.code)})` : ''}`,
      message: `${where} refused ${plainName(delivery.sender)} → ${plainName(delivery.recipient)} for good, answering "${plainReply(delivery.reply ?? '')}". ${advice.cause} ${advice.fix}`,
      facts: [{ label: 'The remote server answered', text: 'as chasquid logged it', detail: delivery.reply ?? '' }],
    });
  }
  return alerts;
}

function queueAlerts(environment: JobEnvironment): JobAlert[] {
  const hours = environment.runtime.config.QUEUE_STUCK_HOURS;
  const now = environment.context.now();
  const stuck = stuckQueueItems(environment.context.database, new Date(now.getTime() - hours * 3_600_000));
  const key = 'queue-stuck';
  if (stuck.length === 0) {
    return recover(environment, key) ? [recovery("chasquid's queue is moving again", `No message has waited longer than ${hours} h.`)] : [];
  }
  if (!raise(environment, key, 'queue-stuck', 'stuck', `${stuck.length}`)) return [];
  const oldest = stuck[0];
  const waited = oldest === undefined ? 0 : Math.round(((now.getTime() - oldest.queuedAt.getTime()) / 3_600_000) * 10) / 10;
  return [
    {
      kind: 'queue-stuck',
      severity: 'warning',
      subject: `${stuck.length} message(s) stuck in chasquid's queue`,
      message: `${stuck.length} message(s) have waited in chasquid's queue longer than ${hours} h (the oldest, from ${plainName(oldest?.sender ?? '?')} to ${oldest?.recipients.map(plainName).join(', ') ?? '?'}, for ${waited} h). chasquid retries and gives up after 20 h. Run \`mailops reports\` for the failures the remote servers gave.`,
    },
  ];
}

export const reportsJob: Job = async (environment) => {
  const { context } = environment;
  const inboxes = await ensureReportInboxes(context);
  const collected = await collectReports(context);
  const log = await readMailLog(context);
  const resolver = new DnsResolver({ server: context.config.DNS_RESOLVER });
  const dmarc = collected.stored.filter((report): report is DmarcAggregateReport => report.kind === 'dmarc');
  const tls = collected.stored.filter((report): report is TlsReport => report.kind === 'tlsrpt');
  const own = dmarc.length > 0 ? await ownAddresses(context, resolver).catch(() => [] as string[]) : [];

  const alerts: JobAlert[] = [...dmarcAlerts(environment, dmarc, own)];
  const since = new Date(context.now().getTime() - week);
  for (const domain of new Set(dmarc.map((report) => report.domain))) {
    if (!managedDomains(context.config).includes(domain)) continue;
    const summary = await domainReports(context, domain, since, { resolver, own: Promise.resolve(own) });
    alerts.push(...passRateAlert(environment, domain, summary.dmarc.messages, summary.dmarc.passRate));
  }
  alerts.push(...tlsAlerts(environment, tls));
  if (log.source === 'file') alerts.push(...deliveryAlerts(environment, log.deliveries));
  alerts.push(...queueAlerts(environment));

  const notices = collected.setAside.map(
    (entry) =>
      `A message to the report address could not be read and was set aside (${entry.size} bytes, sha256 ${entry.sha256.slice(0, 16)}…): ${entry.reason}`
  );
  const logPart =
    log.source === 'file'
      ? `${log.events} mail log event(s), ${log.deliveries.length} delivery result(s)`
      : log.source === 'syslog'
        ? 'mail log not read: chasquid logs to syslog (set mail_log_path in chasquid.conf to a file for delivery results)'
        : "mail log not found (chasquid's mail_log_path)";
  const summary = [
    `${dmarc.length} DMARC and ${tls.length} TLS report(s) stored`,
    ...(collected.duplicates > 0 ? [`${collected.duplicates} duplicate(s)`] : []),
    ...(collected.setAside.length > 0 ? [`${collected.setAside.length} set aside`] : []),
    ...(collected.left > 0 ? [`${collected.left} left for the next run`] : []),
    ...(inboxes.created.length > 0 ? [`report address created for ${inboxes.created.join(', ')}`] : []),
    logPart,
  ].join('; ');
  return {
    job: 'reports',
    ok: alerts.every((alert) => alert.severity === 'resolved' || alert.severity === 'info'),
    alerts,
    reports: [],
    notices,
    summary,
    details: {
      stored: { dmarc: dmarc.length, tlsrpt: tls.length },
      duplicates: collected.duplicates,
      setAside: collected.setAside.map(({ reason, size, sha256 }) => ({ reason, size, sha256 })),
      mailLog: log.source === 'file' ? { source: 'file', events: log.events, deliveries: log.deliveries.length } : { source: log.source },
      reportAddressCreated: inboxes.created,
    },
  };
};
