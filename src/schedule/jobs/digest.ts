// The weekly digest (CRON_DIGEST, Monday 08:00 by default): the `reports` summary of the past week for every domain —
// DMARC pass rate, reporters, sending sources, TLS sessions, delivery results — posted to HEALTH_CHANNEL_ID. It reads
// only what the reports job stored; it changes nothing and raises no alert.

import { reportsSummary } from '../../ops/reports.ts';
import type { Job } from '../job.ts';

export const digestJob: Job = async (environment) => {
  const digest = await reportsSummary(environment.context, { since: '7d' });
  const messages = digest.domains.reduce((sum, domain) => sum + domain.dmarc.messages, 0);
  const failed = digest.domains.reduce((sum, domain) => sum + domain.delivery.failedPermanent, 0);
  return {
    job: 'digest',
    ok: true,
    alerts: [],
    reports: [],
    digest,
    summary: `${digest.domains.length} domain(s): ${messages} reported message(s), ${failed} permanent delivery failure(s) this week`,
    details: { digest },
  };
};
