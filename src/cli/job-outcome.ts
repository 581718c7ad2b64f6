// A scheduled job's run as `mailops run-job` shows it: one line for the outcome, one per alert (its kind, whether it
// pages, the whole message), and what happens to the messages the run queued — as text and as JSON. When DISCORD_TOKEN
// is set and no running bot is delivering, run-job posts them itself, over fetch (src/bot/rest-poster.ts): the command
// line never loads discord.js (test/import-directions.test.ts).

import type { Runtime } from '../runtime.ts';
import { deliveringProcess, OutboxDelivery } from '../schedule/delivery.ts';
import type { JobOutcome } from '../schedule/job.ts';
import { pages } from '../schedule/outcome.ts';
import type { RunJobResult } from '../schedule/runner.ts';
import type { RunJobOutput } from './run-job.ts';

export interface OutboxNote {
  queued: number;
  /** How many of them run-job posted itself. */
  delivered: number;
  /** What becomes of the queued messages, for people. */
  note: string;
}

/**
 * What becomes of the messages a run queued: nothing is posted without channels; a running bot posts them; otherwise,
 * with DISCORD_TOKEN, run-job posts them now, and without it they wait for the bot.
 */
export async function deliverQueued(runtime: Runtime, queued: number, alerts: number): Promise<OutboxNote> {
  const { config } = runtime;
  if (config.ALERT_CHANNEL_ID === undefined && config.HEALTH_CHANNEL_ID === undefined) {
    // Without alerts there is nothing "above" to point at: say only that nothing is posted anywhere.
    return {
      queued,
      delivered: 0,
      note:
        alerts === 0
          ? 'The Discord channels are not configured (ALERT_CHANNEL_ID): nothing is posted.'
          : `Not posted: the Discord channels are not configured (ALERT_CHANNEL_ID); ${alerts === 1 ? 'this is the alert' : 'these are the alerts'} the job would post.`,
    };
  }
  if (queued === 0) return { queued, delivered: 0, note: 'Nothing to post.' };
  if (deliveringProcess(runtime.database()) !== undefined)
    return { queued, delivered: 0, note: `Queued ${queued} message(s); the running bot posts them.` };
  if (config.DISCORD_TOKEN === undefined)
    return { queued, delivered: 0, note: `Queued ${queued} message(s); the bot (mailops start) posts them when it runs.` };
  // Loaded when used: the rendering of outcomes brings the check embeds.
  const { fetchPoster } = await import('../bot/rest-poster.ts');
  const delivery = new OutboxDelivery(
    runtime.database(),
    fetchPoster(config.DISCORD_API_URL, config.DISCORD_TOKEN, config.ONCALL_ROLE_ID),
    runtime.logger
  );
  try {
    const pass = await delivery.deliver();
    if (!pass.holding) return { queued, delivered: 0, note: `Queued ${queued} message(s); the running bot posts them.` };
    const waiting = pass.waiting > 0 ? `; ${pass.waiting} message(s) wait in the outbox and are retried by the bot` : '';
    return { queued, delivered: pass.delivered, note: `Posted ${pass.delivered} message(s) to Discord${waiting}.` };
  } finally {
    await delivery.stop();
  }
}

export function jobOutcomeText(outcome: JobOutcome, note: string): string {
  const lines = [`${outcome.job}: ${outcome.ok ? 'OK' : 'NOT OK'} — ${outcome.summary}`];
  for (const alert of outcome.alerts)
    lines.push(`${alert.escalated ? 'ESCALATION ' : ''}[${alert.kind}${pages(alert) ? ', pages on-call' : ''}] ${alert.message}`);
  if (outcome.alerts.length === 0) lines.push('No alerts.');
  lines.push(note);
  return lines.join('\n');
}

export function jobOutcomeJson(outcome: JobOutcome, outbox: OutboxNote): RunJobOutput['json'] {
  return {
    job: outcome.job,
    ok: outcome.ok,
    alerts: outcome.alerts.map((alert) => ({ kind: alert.kind, message: alert.message, page: pages(alert) })),
    summary: outcome.summary,
    queued: outbox.queued,
    delivered: outbox.delivered,
    ...outcome.details,
  };
}

/** The whole answer of run-job for a run that took place, as JSON and as text. */
export async function jobRunOutput(runtime: Runtime, result: Extract<RunJobResult, { status: 'done' }>): Promise<RunJobOutput> {
  const { outcome } = result;
  const outbox = await deliverQueued(runtime, result.queued, outcome.alerts.length);
  return { json: jobOutcomeJson(outcome, outbox), text: jobOutcomeText(outcome, outbox.note) };
}
