// The dkim-retire job as the scheduler runs it: ops/dkim-retire.ts retires the keys whose grace period is over; each
// retirement is an informational `dkim-retired` alert. With DNS_PROVIDER=manual the record cannot be removed by
// mailops: the alert carries the record to remove by hand (nothing depends on it being gone quickly).

import { dkimRetireJob as retire } from '../../ops/dkim-retire.ts';
import type { Job, JobAlert } from '../job.ts';

export const dkimRetireJob: Job = async (environment) => {
  const result = await retire(environment.context, { publishing: environment.publishing });
  const manual = environment.manualSteps;
  const alerts: JobAlert[] = result.alerts.map((alert, index) => {
    const retired = result.retired[index];
    const step = retired === undefined ? undefined : manual.find((entry) => entry.record.name.startsWith(`${retired.selector}._domainkey.${retired.domain}`));
    const message = step === undefined ? alert.message : `${alert.message.replace(/ and its DNS record is removed\.$/, '.')} Remove its DNS record by hand: ${step.zoneLine}`;
    return { kind: 'dkim-retired', page: false, title: retired === undefined ? 'DKIM key retired' : `${retired.domain}: DKIM key ${retired.selector} retired`, message };
  });
  const { job: _job, ok, alerts: _alerts, ...details } = result;
  const summary = [
    `${result.retired.length} retired`,
    ...(result.failed.length > 0 ? [`${result.failed.length} FAILED (${result.failed.map((entry) => `${entry.selector} of ${entry.domain}: ${entry.error}`).join('; ')})`] : []),
    `${result.waiting.length} waiting`,
  ].join(', ');
  return { job: 'dkim-retire', ok, alerts, reports: [], summary, details };
};
