// A scheduled job's run as `mailops run-job` shows it: one line for the outcome, one per alert (its kind, whether it
// pages, the whole message), and what happens to the messages the run queued — as text and as JSON. Plain text only:
// run-job loads no Discord code (test/import-directions.test.ts), so it queues and leaves posting to the bot, which
// renders the outcomes when it delivers them.

import type { Runtime } from '../runtime.ts';
import { deliveringProcess } from '../schedule/delivery.ts';
import type { JobOutcome } from '../schedule/job.ts';
import { pages } from '../schedule/outcome.ts';
import type { RunJobResult } from '../schedule/runner.ts';
import type { RunJobOutput } from './run-job.ts';

export interface OutboxNote {
  queued: number;
  /** Always 0: run-job posts nothing itself (kept in --json for the scripts that read it). */
  delivered: number;
  /** What becomes of the queued messages, for people. */
  note: string;
}

/** What becomes of the messages a run queued: nothing is posted without channels; otherwise the bot posts them. */
export function outboxNote(runtime: Runtime, queued: number, alerts: number): OutboxNote {
  const { config } = runtime;
  if (config.ALERT_CHANNEL_ID === undefined && config.HEALTH_CHANNEL_ID === undefined) {
    // Without alerts there is nothing "above" to point at: say only that nothing is posted anywhere.
    return { queued, delivered: 0, note: alerts === 0
      ? 'The Discord channels are not configured (ALERT_CHANNEL_ID): nothing is posted.'
      : `Not posted: the Discord channels are not configured (ALERT_CHANNEL_ID); ${alerts === 1 ? 'this is the alert' : 'these are the alerts'} the job would post.` };
  }
  if (queued === 0) return { queued, delivered: 0, note: 'Nothing to post.' };
  const poster = deliveringProcess(runtime.database()) === undefined ? 'the bot (mailops start) posts them when it runs' : 'the running bot posts them';
  return { queued, delivered: 0, note: `Queued ${queued} message(s); ${poster}.` };
}

export function jobOutcomeText(outcome: JobOutcome, note: string): string {
  const lines = [`${outcome.job}: ${outcome.ok ? 'OK' : 'NOT OK'} — ${outcome.summary}`];
  for (const alert of outcome.alerts) lines.push(`${alert.escalated ? 'ESCALATION ' : ''}[${alert.kind}${pages(alert) ? ', pages on-call' : ''}] ${alert.message}`);
  if (outcome.alerts.length === 0) lines.push('No alerts.');
  lines.push(note);
  return lines.join('\n');
}

export function jobOutcomeJson(outcome: JobOutcome, outbox: OutboxNote): RunJobOutput['json'] {
  return {
    job: outcome.job, ok: outcome.ok, alerts: outcome.alerts.map((alert) => ({ kind: alert.kind, message: alert.message, page: pages(alert) })),
    summary: outcome.summary, queued: outbox.queued, delivered: outbox.delivered, ...outcome.details,
  };
}

/** The whole answer of run-job for a run that took place, as JSON and as text. */
export function jobRunOutput(runtime: Runtime, result: Extract<RunJobResult, { status: 'done' }>): RunJobOutput {
  const { outcome } = result;
  const outbox = outboxNote(runtime, result.queued, outcome.alerts.length);
  return { json: jobOutcomeJson(outcome, outbox), text: jobOutcomeText(outcome, outbox.note) };
}
