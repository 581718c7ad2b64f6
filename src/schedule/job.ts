// What a scheduled job is and what it hands back. The jobs (jobs/*.ts) look at the mail host and DNS through the
// operations of src/ops and say what changed as alerts — plain data (outcome.ts); the runner (runner.ts) records the
// run, commits the alerts' state and queues the outcomes in one transaction, and the bot renders and delivers them
// (delivery.ts).
//
// Only changes page people: a `critical` alert pages the on-call role (ONCALL_ROLE_ID) — new drift, a failed renewal,
// a certificate mismatch; an escalation pages again, louder. Recoveries, renewals, retirements and the health report
// are not critical.

import type { DatabaseSync } from 'node:sqlite';
import type { ManualDnsStep } from '../dns/manual.ts';
import type { RecordPublishing } from '../dns/publisher.ts';
import type { OperationContext } from '../ops/context.ts';
import type { ReportsResult } from '../ops/reports.ts';
import type { Runtime } from '../runtime.ts';
import { closeAlert, openAlert, openAlerts, saveAlert, type OpenAlert } from '../store/alerts.ts';
import type { HealthReport, JobAlert } from './outcome.ts';

export const jobNames = ['health', 'cert-watch', 'dns-drift', 'dkim-retire', 'reports', 'digest'] as const;
export type JobName = (typeof jobNames)[number];

export interface JobOutcome {
  job: JobName;
  /** Nothing is wrong: no drift, no failed check or renewal, no failed retirement. */
  ok: boolean;
  alerts: JobAlert[];
  /** Informational reports for HEALTH_CHANNEL_ID (the health job: one per domain). */
  reports: HealthReport[];
  /** The weekly digest, for HEALTH_CHANNEL_ID (the digest job). */
  digest?: ReportsResult;
  /** News for ALERT_CHANNEL_ID that is no alert (a report set aside as unreadable), said once. */
  notices?: string[];
  /** One line: what the run found. */
  summary: string;
  /** When the job wants to run again before its schedule (a failed renewal's retry). */
  retryAt?: Date;
  /** The job's own result fields, for `run-job --json`. */
  details: Record<string, unknown>;
}

/** What a job runs with. */
export interface JobEnvironment {
  runtime: Runtime;
  /** The operations' context, with the job's actor (`scheduler`, or the person running run-job). */
  context: OperationContext;
  /** How records are published for this run (the bot: unattended; the CLI: may ask the person at the terminal). */
  publishing: () => RecordPublishing;
  /** Steps of DNS_PROVIDER=manual that nobody could be asked to do now; the job turns them into instructions. */
  manualSteps: ManualDnsStep[];
  /** The open alerts, read now and changed when the run's messages are queued. */
  alerts: AlertBook;
  options: JobOptions;
}

export interface JobOptions {
  /** Retries of a failed certificate renewal: the first after this long, doubling, at most `renewalRetryMaxMs`. */
  renewalRetryFirstMs: number;
  renewalRetryMaxMs: number;
  /** Domains looked at together (health, dns-drift). */
  concurrency: number;
}

export const defaultJobOptions: JobOptions = { renewalRetryFirstMs: 10 * 60_000, renewalRetryMaxMs: 3 * 60 * 60_000, concurrency: 8 };

export type Job = (environment: JobEnvironment) => Promise<JobOutcome>;

/**
 * The open alerts as a job sees them: reads go to the database, writes wait in the book until the runner commits them
 * together with the messages that announce them — so an alert is never recorded as sent without its message queued.
 */
export class AlertBook {
  readonly #database: DatabaseSync;
  readonly #changes = new Map<string, OpenAlert<unknown> | undefined>();

  constructor(database: DatabaseSync) {
    this.#database = database;
  }

  get<State>(key: string): OpenAlert<State> | undefined {
    if (this.#changes.has(key)) return this.#changes.get(key) as OpenAlert<State> | undefined;
    return openAlert<State>(this.#database, key);
  }

  /** Open alerts whose key starts with `prefix`, as changed by this run so far. */
  list<State>(prefix: string): Array<OpenAlert<State>> {
    const stored = openAlerts<State>(this.#database, prefix).filter((alert) => !this.#changes.has(alert.key));
    const changed = [...this.#changes.values()].filter(
      (alert): alert is OpenAlert<unknown> => alert !== undefined && alert.key.startsWith(prefix)
    );
    return [...stored, ...(changed as Array<OpenAlert<State>>)];
  }

  save<State>(alert: Omit<OpenAlert<State>, 'openedAt'> & { openedAt?: string }): void {
    const openedAt = alert.openedAt ?? this.get(alert.key)?.openedAt ?? alert.updatedAt;
    this.#changes.set(alert.key, { ...alert, openedAt });
  }

  close(key: string): void {
    this.#changes.set(key, undefined);
  }

  /** Writes the changes (inside the runner's transaction). */
  commit(): void {
    for (const [key, alert] of this.#changes) {
      if (alert === undefined) closeAlert(this.#database, key);
      else saveAlert(this.#database, alert);
    }
    this.#changes.clear();
  }
}
