// What the scheduler adds to the health endpoint (health/service.ts), read from the state database at each request:
//   /healthz  the last run of each job (when, why, how it ended, its summary) and the messages waiting in the outbox
//   /metrics  mailops_job_last_run_ok{job}, mailops_job_last_run_timestamp_seconds{job},
//             mailops_alert_outbox_messages, mailops_check_ok{domain,check} (1 unless the check failed at the last
//             health run), mailops_certificate_days_left{name} and
//             mailops_certificate_renewal_window_start_timestamp_seconds{name} (the CA's ARI window; as cert-watch
//             last saw the certificates); from the reports job: mailops_dmarc_reported_messages{domain,result},
//             mailops_tlsrpt_sessions{domain,result}, mailops_deliveries{result} (results read from the mail log) and
//             mailops_reports_set_aside (unreadable report messages), all counted since the state database began
// A failing job or check does not make the bot unhealthy: reporting it is the bot doing its job.

import type { DatabaseSync } from 'node:sqlite';
import type { BotMetrics } from '../health/metrics.ts';
import type { HealthSource } from '../health/service.ts';
import type { Runtime } from '../runtime.ts';
import { lastJobRuns } from '../store/job-runs.ts';
import { certificateDaysLeft, latestCheckResults } from '../store/latest-results.ts';
import { outboxLength } from '../store/outbox.ts';
import { reportTotals } from '../store/reports.ts';

export const schedulerHealthSource: HealthSource = {
  details(database: DatabaseSync) {
    const jobs = Object.fromEntries(
      lastJobRuns(database).map((run) => [
        run.job,
        {
          trigger: run.trigger,
          startedAt: run.startedAt,
          finishedAt: run.finishedAt,
          outcome: run.outcome,
          summary: run.summary,
          alerts: run.alerts,
        },
      ])
    );
    return { jobs, outbox: { waiting: outboxLength(database) } };
  },
};

export function registerSchedulerMetrics(metrics: BotMetrics, runtime: Runtime): void {
  const database = () => runtime.database();
  metrics.gauge('mailops_job_last_run_ok', 'Whether the last run of each scheduled job found nothing wrong (1) or not (0)', ['job'], () =>
    lastJobRuns(database())
      .filter((run) => run.outcome !== 'running')
      .map((run) => ({ labels: { job: run.job }, value: run.outcome === 'ok' ? 1 : 0 }))
  );
  metrics.gauge('mailops_job_last_run_timestamp_seconds', 'When the last run of each scheduled job started', ['job'], () =>
    lastJobRuns(database()).map((run) => ({ labels: { job: run.job }, value: new Date(run.startedAt).getTime() / 1000 }))
  );
  metrics.gauge('mailops_alert_outbox_messages', 'Messages for Discord waiting in the outbox', [], () => [
    { labels: {}, value: outboxLength(database()) },
  ]);
  metrics.gauge('mailops_check_ok', 'Deliverability checks at the last health run: 1 unless the check failed', ['domain', 'check'], () =>
    latestCheckResults(database()).flatMap((result) =>
      result.checks.map((check) => ({
        labels: { domain: result.domain, check: check.port === undefined ? check.id : `${check.id} ${check.port}` },
        value: check.status === 'fail' ? 0 : 1,
      }))
    )
  );
  metrics.gauge(
    'mailops_certificate_days_left',
    'Days left before each installed certificate expires, as cert-watch last saw it',
    ['name'],
    () =>
      certificateDaysLeft(database(), runtime.now())
        .filter((entry) => entry.daysLeft !== undefined)
        .map((entry) => ({ labels: { name: entry.name }, value: entry.daysLeft as number }))
  );
  metrics.gauge(
    'mailops_certificate_renewal_window_start_timestamp_seconds',
    "Start of the CA's suggested renewal window (ARI) of each installed certificate, when the CA offers one, as cert-watch last saw it",
    ['name'],
    () =>
      certificateDaysLeft(database(), runtime.now())
        .filter((entry) => entry.renewalWindowStart !== undefined)
        .map((entry) => ({ labels: { name: entry.name }, value: new Date(entry.renewalWindowStart as string).getTime() / 1000 }))
  );
  metrics.gauge(
    'mailops_dmarc_reported_messages',
    'Messages receivers reported in DMARC aggregate reports, by domain and DMARC result (pass: aligned DKIM or SPF)',
    ['domain', 'result'],
    () => reportTotals(database()).dmarc.map((row) => ({ labels: { domain: row.domain, result: row.result }, value: row.messages }))
  );
  metrics.gauge(
    'mailops_tlsrpt_sessions',
    'TLS sessions receivers reported in TLS reports, by domain and result',
    ['domain', 'result'],
    () => reportTotals(database()).tls.map((row) => ({ labels: { domain: row.domain, result: row.result }, value: row.sessions }))
  );
  metrics.gauge('mailops_deliveries', "Delivery attempts to remote servers read from chasquid's mail log, by result", ['result'], () =>
    reportTotals(database()).deliveries.map((row) => ({ labels: { result: row.result }, value: row.count }))
  );
  metrics.gauge('mailops_reports_set_aside', 'Messages to the report address that could not be read and were set aside', [], () => [
    { labels: {}, value: reportTotals(database()).setAside },
  ]);
}
