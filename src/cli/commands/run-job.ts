// run-job <job>: run one scheduled job now. The jobs live with their operations; the scheduler runs the same ones.
// Jobs not built yet answer "not available yet".

import { failedError, usageError } from '../../errors.ts';
import { operationContext } from '../../ops/context.ts';
import type { CliCommand, CommandContext, CommandOutput } from '../command.ts';
import { publishingFor } from '../dns-publishing.ts';

const jobNames = ['health', 'cert-watch', 'dns-drift', 'dkim-retire'] as const;

const jobs: Partial<Record<(typeof jobNames)[number], (context: CommandContext) => Promise<CommandOutput>>> = {
  'dkim-retire': async (context) => {
    const { dkimRetireJob } = await import('../../ops/dkim-retire.ts');
    const result = await dkimRetireJob(operationContext(context.runtime, context.actor), { publishing: () => publishingFor(context, { wait: false }) });
    const lines = [
      ...result.retired.map(({ domain, selector }) => `Retired ${selector} of ${domain}.`),
      ...result.failed.map(({ domain, selector, error }) => `FAILED to retire ${selector} of ${domain}: ${error}`),
      ...result.waiting.map(({ domain, selector, after }) => `Waiting: ${selector} of ${domain} is retired after ${after}.`),
    ];
    return { json: result, text: lines.length === 0 ? 'No DKIM key is waiting for retirement.' : lines.join('\n'), exitCode: result.ok ? 0 : 1 };
  },
};

export const runJobCommand: CliCommand = {
  name: 'run-job',
  summary: 'run one scheduled job now: health, cert-watch, dns-drift or dkim-retire',
  arguments: ['<job>'],
  options: [],
  async run(context, [job = '']) {
    if (!(jobNames as readonly string[]).includes(job)) {
      throw usageError('unknown-job', `There is no job "${job.slice(0, 40)}".`, `Give one of: ${jobNames.join(', ')}.`);
    }
    const runner = jobs[job as (typeof jobNames)[number]];
    if (!runner) {
      throw failedError('not-available', `"mailops run-job ${job}" is not available yet in this version of mailops.`,
        { hint: 'It is part of the planned interface; see the README for the commands that work today.' });
    }
    return runner(context);
  },
};
