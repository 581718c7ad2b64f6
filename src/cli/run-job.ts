// run-job from the command line (commands/run-job.ts): runs the job, leaves what it queued to the bot (run-job loads
// no Discord code), and says what happened as JSON and as text (job-outcome.ts).

import type { RunContext } from '../command/definition.ts';
import { failedError, usageError } from '../errors.ts';
import type { JobName } from '../schedule/job.ts';
import { jobRunOutput } from './job-outcome.ts';

export const jobNames: readonly JobName[] = ['health', 'cert-watch', 'dns-drift', 'dkim-retire', 'reports', 'digest'];

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
    throw failedError(
      'job-running',
      `${job} is running right now (${result.holder ?? 'in another mailops process'}); it was not started twice.`,
      { hint: 'Wait for it to finish (the bot reports its result), then run it again if needed.' }
    );
  }
  return jobRunOutput(runtime, result);
}
