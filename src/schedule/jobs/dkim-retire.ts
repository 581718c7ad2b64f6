// The dkim-retire job as the scheduler runs it: ops/dkim-retire.ts retires the keys whose grace period is over; each
// retirement is an informational `dkim-retired` alert. With DNS_PROVIDER=manual the record cannot be removed by
// mailops: the alert carries the record to remove by hand (nothing depends on it being gone quickly).

import { dkimRecordName } from '../../chasquid/dkim-key.ts';
import { dkimRetireJob as retire } from '../../ops/dkim-retire.ts';
import type { Job } from '../job.ts';
import type { JobAlert } from '../outcome.ts';

export const dkimRetireJob: Job = async (environment) => {
  const result = await retire(environment.context, { publishing: environment.publishing });
  const alerts: JobAlert[] = result.retired.map(({ domain, selector }) => {
    const step = environment.manualSteps.find((entry) => entry.record.name === dkimRecordName(selector, domain));
    const record = step === undefined ? 'and its DNS record is removed.' : `Remove its DNS record by hand: ${step.zoneLine}`;
    return {
      kind: 'dkim-retired',
      severity: 'info',
      subject: `${domain}: DKIM key ${selector} retired`,
      message: `Retired the old DKIM key s=${selector} of ${domain}: it no longer signs ${record}`,
    };
  });
  const { job: _job, ok, alerts: _alerts, ...details } = result;
  const summary = [
    `${result.retired.length} retired`,
    ...(result.failed.length > 0
      ? [
          `${result.failed.length} FAILED (${result.failed.map((entry) => `${entry.selector} of ${entry.domain}: ${entry.error}`).join('; ')})`,
        ]
      : []),
    `${result.waiting.length} waiting`,
  ].join(', ');
  return { job: 'dkim-retire', ok, alerts, reports: [], summary, details };
};
