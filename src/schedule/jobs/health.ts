// The health job: the deliverability report of every domain in MAIL_DOMAINS (the same checks as `check`, the host's
// facts read once for all of them, a few domains at a time) and the host's status, posted as one embed per domain to
// HEALTH_CHANNEL_ID — worst status as the colour, failing checks with their fixes first, the host's status in the
// footer. Informational: nobody is paged. Each domain with a failing check is also listed as a `check-failed` alert
// in the job's result (what run-job prints), and the latest results are kept for the health endpoint.

import type { APIEmbed } from 'discord.js';
import { checkEmbed, uncheckedEmbed } from '../../bot/check-embed.ts';
import { DnsResolver } from '../../dns/caching-resolver.ts';
import { asMailopsError } from '../../errors.ts';
import { check, type CheckReport } from '../../ops/check.ts';
import { managedDomains } from '../../ops/context.ts';
import { status, type StatusResult } from '../../ops/status.ts';
import { saveCheckResults } from '../../store/latest-results.ts';
import type { Job, JobAlert } from '../job.ts';
import { mapLimited } from '../limited.ts';

/** The host in one line: chasquid, whether it runs, the queue, certificates and their days left. */
export function hostLine(result: StatusResult): string {
  const certificates = result.certificates.map((certificate) => `${certificate.name} ${certificate.daysLeft === undefined ? 'unreadable' : `${certificate.daysLeft} days left`}`);
  return [
    `${result.host}: chasquid ${result.chasquid.version} ${result.service.running ? 'running' : 'NOT RUNNING'}`,
    result.queue === undefined ? 'queue unknown' : `queue ${result.queue.messages}`,
    certificates.length === 0 ? 'no certificate' : `certificates: ${certificates.join(', ')}`,
  ].join(' · ');
}

const failing = (report: CheckReport) => report.checks.filter((result) => result.status === 'fail');

export const healthJob: Job = async (environment) => {
  const { context } = environment;
  const { config } = context;
  const now = context.now();
  const domains = managedDomains(config);
  const resolver = new DnsResolver({ server: config.DNS_RESOLVER });
  const hostFacts = new Map<string, Promise<unknown>>();
  const [hostStatus, reports] = await Promise.all([
    status({ host: context.host, chasquidDir: context.chasquidDir, now }).then((result) => ({ line: hostLine(result) }), (error: unknown) => ({ line: `the mail host's status could not be read: ${asMailopsError(error).message}` })),
    mapLimited(domains, Math.min(4, environment.options.concurrency), async (domain) => {
      try {
        return { domain, report: await check({ host: context.host, config, domain, now, resolver, hostFacts, operation: context }) };
      } catch (error) {
        return { domain, error: asMailopsError(error).message };
      }
    }),
  ]);
  const embeds: APIEmbed[] = [];
  const alerts: JobAlert[] = [];
  for (const entry of reports) {
    if (entry.report === undefined) {
      embeds.push({ ...uncheckedEmbed(entry.domain, entry.error), footer: { text: hostStatus.line } });
      alerts.push({ kind: 'check-failed', page: false, title: `${entry.domain} could not be checked`, message: `${entry.domain} could not be checked: ${entry.error}` });
      continue;
    }
    const { report } = entry;
    saveCheckResults(context.database, {
      domain: report.domain, checkedAt: now.toISOString(), worst: report.worst,
      checks: report.checks.map((result) => ({ id: result.id, status: result.status, ...(result.port === undefined ? {} : { port: result.port }) })),
    });
    embeds.push({ ...checkEmbed(report), footer: { text: hostStatus.line } });
    const failed = failing(report);
    if (failed.length > 0) {
      const names = failed.map((result) => `${result.id}${result.port === undefined ? '' : ` ${result.port}`}`).join(', ');
      alerts.push({
        kind: 'check-failed', page: false, title: `${report.domain}: ${failed.length} check${failed.length === 1 ? '' : 's'} failed`,
        message: `${report.domain}: ${failed.length} check${failed.length === 1 ? '' : 's'} failed (${names}): ${failed.map((result) => `${result.id}: ${result.summary}`).join('; ')}`,
      });
    }
  }
  const failedDomains = reports.filter((entry) => entry.report === undefined || failing(entry.report).length > 0).map((entry) => entry.domain);
  return {
    job: 'health',
    ok: failedDomains.length === 0,
    alerts,
    reports: embeds,
    summary: `${domains.length} domain${domains.length === 1 ? '' : 's'} checked, ${failedDomains.length === 0 ? 'every check passes or warns' : `failures in ${failedDomains.join(', ')}`}; ${hostStatus.line}`,
    details: {
      host: hostStatus.line,
      domains: reports.map((entry) => entry.report === undefined
        ? { domain: entry.domain, ok: false, error: entry.error }
        : { domain: entry.domain, ok: entry.report.ok, worst: entry.report.worst, failed: failing(entry.report).map((result) => result.id) }),
    },
  };
};
