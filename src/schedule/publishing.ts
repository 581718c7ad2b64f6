// DNS publishing for jobs that run with nobody to ask (the bot's scheduler). rfc2136 and cloudflare publish as
// always. DNS_PROVIDER=manual cannot wait for a person: a step is recorded (the job turns it into an instruction in
// its alert) and taken as done — which suits removals (dkim-retire), which nothing waits for. A job that must add a
// record (cert-watch) does not use manual publishing at all.

import type { ManualDnsStep } from '../dns/manual.ts';
import { RecordPublishing, createPublisher } from '../dns/publisher.ts';
import type { Runtime } from '../runtime.ts';

export function unattendedPublishing(runtime: Runtime, manualSteps: ManualDnsStep[]): RecordPublishing {
  // TSIG signatures carry the time of signing, which the server compares with its own clock: wall-clock time, always.
  const publisher = createPublisher(runtime.config, runtime.logger, () => new Date(), {
    manualConfirm: async (step) => {
      manualSteps.push(step);
    },
  });
  return new RecordPublishing(publisher, runtime.config, runtime.logger);
}
