// run-job <job> — run one scheduled job now, exactly as the scheduler runs it (src/schedule/runner.ts): the same
// alerts, the same state. With the Discord channels configured its messages are queued in the outbox for the bot to
// post; without Discord settings the alerts are only printed — what the job would post. Command line only: in
// Discord the bot's own scheduler runs the jobs.

import { runJobFromTerminal, jobNames } from '../src/cli/run-job.ts';
import { defineCommand } from '../src/command/definition.ts';

export default defineCommand({
  name: 'run-job',
  description: `Run one scheduled job now: ${jobNames.join(', ')}`,
  fronts: ['cli'],
  access: 'change',
  options: {
    job: { kind: 'text', description: 'The job to run', required: true, cli: 'argument', choices: jobNames, maxLength: 40 },
  },
  target: 'job',
  run: (context, { job }) => runJobFromTerminal(context, job),
  render: {
    json: (result) => result.json,
    text: (result) => result.text,
    exitCode: (result) => (result.json.ok ? 0 : 1),
  },
});
