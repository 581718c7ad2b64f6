// Running one job, the same way for the scheduler and for `mailops run-job`:
//   take the job's lease (a job never runs twice at once, in this process or another) → record the run → run it →
//   in one transaction: commit the alerts' state, queue its outcomes in the outbox (when the Discord channels are
//   configured; the bot renders them when it delivers), record how the run ended → release the lease.
// Committing the alerts' state with their messages means an alert is never recorded as raised without its message
// queued, nor queued twice.

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { ManualDnsStep } from '../dns/manual.ts';
import type { RecordPublishing } from '../dns/publisher.ts';
import { asMailopsError } from '../errors.ts';
import { operationContext } from '../ops/context.ts';
import type { Runtime } from '../runtime.ts';
import { finishJobRun, startJobRun, type JobTrigger } from '../store/job-runs.ts';
import { acquireLease, leaseHolder, releaseLease } from '../store/leases.ts';
import { enqueueMessage } from '../store/outbox.ts';
import { AlertBook, defaultJobOptions, type Job, type JobName, type JobOptions, type JobOutcome } from './job.ts';
import type { OutboxItem } from './outcome.ts';
import { unattendedPublishing } from './publishing.ts';

const jobLeaseMs = 2 * 60_000;

/** The jobs, loaded when first run (they bring the checks, mailauth and acme-client). */
async function loadJob(name: JobName): Promise<Job> {
  switch (name) {
    case 'health':
      return (await import('./jobs/health.ts')).healthJob;
    case 'cert-watch':
      return (await import('./jobs/cert-watch.ts')).certWatchJob;
    case 'dns-drift':
      return (await import('./jobs/dns-drift.ts')).dnsDriftJob;
    case 'dkim-retire':
      return (await import('./jobs/dkim-retire.ts')).dkimRetireJob;
    case 'reports':
      return (await import('./jobs/reports.ts')).reportsJob;
    case 'digest':
      return (await import('./jobs/digest.ts')).digestJob;
  }
}

export interface RunJobOptions {
  trigger: JobTrigger;
  slot?: Date;
  /** Who is recorded in the audit trail for the changes a job makes. */
  actor: string;
  /** DNS publishing; unattended by default (DNS_PROVIDER=manual steps become instructions in the alerts). */
  publishing?: () => RecordPublishing;
  options?: Partial<JobOptions>;
}

export type RunJobResult =
  { status: 'done'; outcome: JobOutcome; runId: number; queued: number } | { status: 'busy'; holder: string | undefined };

export async function runJob(runtime: Runtime, name: JobName, options: RunJobOptions): Promise<RunJobResult> {
  const database = runtime.database();
  const holder = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const leaseName = `job:${name}`;
  if (!acquireLease(database, leaseName, holder, jobLeaseMs)) return { status: 'busy', holder: leaseHolder(database, leaseName) };
  const renew = setInterval(() => acquireLease(database, leaseName, holder, jobLeaseMs), jobLeaseMs / 4);
  renew.unref();
  const runId = startJobRun(database, {
    job: name,
    trigger: options.trigger,
    ...(options.slot ? { slot: options.slot } : {}),
    startedAt: runtime.now(),
  });
  const logger = runtime.logger.child({ job: name, trigger: options.trigger });
  try {
    const job = await loadJob(name);
    const manualSteps: ManualDnsStep[] = [];
    const alerts = new AlertBook(database);
    let outcome: JobOutcome;
    try {
      outcome = await job({
        runtime,
        context: operationContext(runtime, options.actor),
        publishing: options.publishing ?? (() => unattendedPublishing(runtime, manualSteps)),
        manualSteps,
        alerts,
        options: { ...defaultJobOptions, ...options.options },
      });
    } catch (error) {
      const failure = asMailopsError(error);
      finishJobRun(database, runId, { finishedAt: runtime.now(), outcome: 'failed', summary: `failed: ${failure.message}`, alerts: 0 });
      logger.warn({ err: error, code: failure.code }, `${name} failed`);
      throw failure;
    }
    const queued = commit(runtime, runId, outcome, alerts);
    logger.info({ ok: outcome.ok, alerts: outcome.alerts.length, queued }, `${name}: ${outcome.summary}`);
    return { status: 'done', outcome, runId, queued };
  } finally {
    clearInterval(renew);
    releaseLease(database, leaseName, holder);
  }
}

/** In one transaction: the alerts' state, the messages to deliver, the end of the run. Returns how many were queued. */
function commit(runtime: Runtime, runId: number, outcome: JobOutcome, alerts: AlertBook): number {
  const database = runtime.database();
  const { ALERT_CHANNEL_ID: alertChannel, HEALTH_CHANNEL_ID: healthChannel } = runtime.config;
  const createdAt = runtime.now();
  const queue = (channelId: string, kind: string, item: OutboxItem) => enqueueMessage(database, { channelId, kind, body: item, createdAt });
  let queued = 0;
  database.exec('BEGIN IMMEDIATE');
  try {
    alerts.commit();
    if (healthChannel !== undefined) {
      for (const report of outcome.reports) queue(healthChannel, outcome.job, { type: 'report', report });
      queued += outcome.reports.length;
      if (outcome.digest !== undefined) {
        queue(healthChannel, outcome.job, { type: 'digest', digest: outcome.digest });
        queued += 1;
      }
    }
    // The health job's check-failed alerts are in its reports already.
    const separate = outcome.job === 'health' ? [] : outcome.alerts;
    if (alertChannel !== undefined) {
      for (const alert of separate) queue(alertChannel, alert.kind, { type: 'alert', alert });
      queued += separate.length;
      for (const text of outcome.notices ?? []) queue(alertChannel, 'notice', { type: 'notice', text });
      queued += outcome.notices?.length ?? 0;
    }
    finishJobRun(database, runId, {
      finishedAt: runtime.now(),
      outcome: outcome.ok ? 'ok' : 'failed',
      summary: outcome.summary,
      alerts: outcome.alerts.length,
    });
    database.exec('COMMIT');
  } catch (error) {
    database.exec('ROLLBACK');
    throw error;
  }
  return queued;
}
