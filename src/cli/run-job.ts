// run-job from the command line (commands/run-job.ts): runs the job, delivers what it queued when no bot does, and
// says what happened as JSON and as text.

import type { RunContext } from '../command/definition.ts';
import { failedError, usageError } from '../errors.ts';
import type { JobName } from '../schedule/job.ts';
import type { RunJobResult } from '../schedule/runner.ts';
import type { Runtime } from '../runtime.ts';

export const jobNames: readonly JobName[] = ['health', 'cert-watch', 'dns-drift', 'dkim-retire'];

interface Delivery {
  queued: number;
  delivered: number;
  /** Why nothing was posted now, for people. */
  note: string;
}

/** Posts what the run queued, unless a running bot is the one delivering. */
async function deliver(runtime: Runtime, queued: number, alerts: number): Promise<Delivery> {
  const { config } = runtime;
  if (config.ALERT_CHANNEL_ID === undefined && config.HEALTH_CHANNEL_ID === undefined) {
    // Without alerts there is nothing "above" to point at: say only that nothing is posted anywhere.
    return { queued, delivered: 0, note: alerts === 0
      ? 'The Discord channels are not configured (ALERT_CHANNEL_ID): nothing is posted.'
      : `Not posted: the Discord channels are not configured (ALERT_CHANNEL_ID); ${alerts === 1 ? 'this is the alert' : 'these are the alerts'} the job would post.` };
  }
  if (queued === 0) return { queued, delivered: 0, note: 'Nothing to post.' };
  if (config.DISCORD_TOKEN === undefined) return { queued, delivered: 0, note: `Queued ${queued} message(s); the bot (mailops start) posts them.` };
  const [{ REST }, { OutboxDelivery }] = await Promise.all([import('discord.js'), import('../schedule/delivery.ts')]);
  const rest = new REST({ api: config.DISCORD_API_URL, retries: 1, timeout: 15_000, handlerSweepInterval: 0, hashSweepInterval: 0 }).setToken(config.DISCORD_TOKEN);
  const delivery = new OutboxDelivery(runtime.database(), rest, runtime.logger);
  try {
    const pass = await delivery.deliver();
    if (!pass.holding) return { queued, delivered: 0, note: `Queued ${queued} message(s); the running bot posts them.` };
    const waiting = pass.waiting > 0 ? `; ${pass.waiting} message(s) wait in the outbox and are retried by the bot` : '';
    return { queued, delivered: pass.delivered, note: `Posted ${pass.delivered} message(s) to Discord${waiting}.` };
  } finally {
    await delivery.stop();
  }
}

function render(result: Extract<RunJobResult, { status: 'done' }>, delivery: Delivery): string {
  const { outcome } = result;
  const lines = [`${outcome.job}: ${outcome.ok ? 'OK' : 'NOT OK'} — ${outcome.summary}`];
  for (const alert of outcome.alerts) lines.push(`${alert.escalated ? 'ESCALATION ' : ''}[${alert.kind}${alert.page ? ', pages on-call' : ''}] ${alert.message}`);
  if (outcome.alerts.length === 0) lines.push('No alerts.');
  lines.push(delivery.note);
  return lines.join('\n');
}

export interface RunJobOutput {
  json: { job: string; ok: boolean; alerts: unknown[]; [detail: string]: unknown };
  text: string;
}

export async function runJobFromTerminal(context: RunContext, job: string): Promise<RunJobOutput> {
  if (!(jobNames as readonly string[]).includes(job)) {
    throw usageError('unknown-job', `There is no job "${job.slice(0, 40)}".`, `Give one of: ${jobNames.join(', ')}.`);
  }
  const { runtime } = context;
  runtime.host();
  // Loaded when used: the jobs bring the checks, mailauth and acme-client.
  const { runJob } = await import('../schedule/runner.ts');
  const result = await runJob(runtime, job as JobName, { trigger: 'manual', actor: context.actor, publishing: () => context.publishing() });
  if (result.status === 'busy') {
    throw failedError('job-running', `${job} is running right now (${result.holder ?? 'in another mailops process'}); it was not started twice.`,
      { hint: 'Wait for it to finish (the bot reports its result), then run it again if needed.' });
  }
  const delivery = await deliver(runtime, result.queued, result.outcome.alerts.length);
  const { outcome } = result;
  const json = {
    job: outcome.job, ok: outcome.ok, alerts: outcome.alerts.map(({ kind, message, page }) => ({ kind, message, page })),
    summary: outcome.summary, queued: delivery.queued, delivered: delivery.delivered, ...outcome.details,
  };
  return { json, text: render(result, delivery) };
}
