// The scheduled jobs' runs (health, cert-watch, dns-drift, dkim-retire): when each ran, why (its schedule, a schedule
// missed while mailops was down, a retry, or a person with `run-job`), how it ended, and how many alerts it raised.
// Also the latest schedule slot each job has handled, which tells at start-up whether a slot passed unseen.

import type { DatabaseSync } from 'node:sqlite';

export type JobTrigger = 'schedule' | 'missed' | 'retry' | 'manual';
/** `skipped`: the job was still running from an earlier start, so this one did not start (it is reported, not stacked). */
export type JobOutcome = 'running' | 'ok' | 'failed' | 'skipped';

export interface JobRun {
  id: number;
  job: string;
  trigger: JobTrigger;
  /** The schedule slot the run is for (scheduled and missed runs). */
  slot: string | undefined;
  startedAt: string;
  finishedAt: string | undefined;
  outcome: JobOutcome;
  /** One line: what the run found or why it failed. */
  summary: string | undefined;
  alerts: number;
}

interface Row {
  id: number;
  job: string;
  trigger: string;
  slot: string | null;
  started_at: string;
  finished_at: string | null;
  outcome: string;
  summary: string | null;
  alerts: number;
}

function fromRow(row: Row): JobRun {
  return {
    id: row.id,
    job: row.job,
    trigger: row.trigger as JobTrigger,
    slot: row.slot ?? undefined,
    startedAt: row.started_at,
    finishedAt: row.finished_at ?? undefined,
    outcome: row.outcome as JobOutcome,
    summary: row.summary ?? undefined,
    alerts: row.alerts,
  };
}

export function startJobRun(database: DatabaseSync, run: { job: string; trigger: JobTrigger; slot?: Date; startedAt: Date }): number {
  const result = database
    .prepare('INSERT INTO job_runs (job, trigger, slot, started_at, outcome) VALUES (?, ?, ?, ?, ?)')
    .run(run.job, run.trigger, run.slot?.toISOString() ?? null, run.startedAt.toISOString(), 'running');
  return Number(result.lastInsertRowid);
}

export function finishJobRun(
  database: DatabaseSync,
  id: number,
  end: { finishedAt: Date; outcome: 'ok' | 'failed'; summary: string; alerts: number }
): void {
  database
    .prepare('UPDATE job_runs SET finished_at = ?, outcome = ?, summary = ?, alerts = ? WHERE id = ?')
    .run(end.finishedAt.toISOString(), end.outcome, end.summary.slice(0, 1000), end.alerts, id);
}

/** A start that did not happen because the job was still running. */
export function recordSkippedRun(
  database: DatabaseSync,
  run: { job: string; trigger: JobTrigger; slot?: Date; at: Date; summary: string }
): void {
  database
    .prepare('INSERT INTO job_runs (job, trigger, slot, started_at, finished_at, outcome, summary) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(
      run.job,
      run.trigger,
      run.slot?.toISOString() ?? null,
      run.at.toISOString(),
      run.at.toISOString(),
      'skipped',
      run.summary.slice(0, 1000)
    );
}

/** The latest run of each job that ran at least once, by job name (for `/healthz` and `status`). */
export function lastJobRuns(database: DatabaseSync): JobRun[] {
  const rows = database
    .prepare(`SELECT * FROM job_runs WHERE id IN (SELECT MAX(id) FROM job_runs WHERE outcome != 'skipped' GROUP BY job) ORDER BY job`)
    .all();
  return (rows as unknown as Row[]).map(fromRow);
}

/** A job's runs, newest first. */
export function jobRuns(database: DatabaseSync, job: string, limit = 20): JobRun[] {
  return (database.prepare('SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT ?').all(job, limit) as unknown as Row[]).map(
    fromRow
  );
}

/** The latest schedule slot the job has handled (run, or taken as the starting point on a first start). */
export function handledSlot(database: DatabaseSync, job: string): Date | undefined {
  const row = database.prepare('SELECT slot FROM job_slots WHERE job = ?').get(job) as { slot: string } | undefined;
  return row === undefined ? undefined : new Date(row.slot);
}

export function recordHandledSlot(database: DatabaseSync, job: string, slot: Date): void {
  database
    .prepare(
      'INSERT INTO job_slots (job, slot) VALUES (?, ?) ON CONFLICT (job) DO UPDATE SET slot = excluded.slot WHERE excluded.slot > job_slots.slot'
    )
    .run(job, slot.toISOString());
}
