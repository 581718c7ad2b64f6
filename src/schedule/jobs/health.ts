// The health job: the deliverability report of every domain in MAIL_DOMAINS (the same checks as `check`, the host's
// facts read once for all of them, a few domains at a time) and the host's status, reported as one entry per domain
// for HEALTH_CHANNEL_ID (the bot posts each as an embed). Informational: nobody is paged. Each domain with a failing
// check is also listed as a `check-failed` alert in the job's result (what run-job prints), and the latest results are
// kept for the health endpoint. When the mail host cannot be reached, that is one alert for all domains, not the same
// error once per check and domain.

import type { CheckResult } from '../../checks/result.ts';
import { DnsResolver } from '../../dns/caching-resolver.ts';
import { asMailopsError } from '../../errors.ts';
import { check, hostErrorHeadline, type CheckReport } from '../../ops/check.ts';
import { managedDomains } from '../../ops/context.ts';
import { status, type StatusResult } from '../../ops/status.ts';
import { saveCheckResults } from '../../store/latest-results.ts';
import { displayDomain } from '../../validation/domain.ts';
import type { Job } from '../job.ts';
import { mapLimited } from '../limited.ts';
import type { HealthReport, JobAlert } from '../outcome.ts';

/** The host in one line: chasquid, whether it runs, the queue, certificates and their days left. */
export function hostLine(result: StatusResult): string {
  const certificates = result.certificates.map(
    (certificate) => `${certificate.name} ${certificate.daysLeft === undefined ? 'unreadable' : `${certificate.daysLeft} days left`}`
  );
  return [
    `${result.host}: chasquid ${result.chasquid.version} ${result.service.running ? 'running' : 'NOT RUNNING'}`,
    result.queue === undefined ? 'queue unknown' : `queue ${result.queue.messages}`,
    certificates.length === 0 ? 'no certificate' : `certificates: ${certificates.join(', ')}`,
  ].join(' · ');
}

/** The checks that found a failure (a check that could not be completed is unknown, not failed). */
const failing = (report: CheckReport) => report.checks.filter((result) => result.status === 'fail' && !result.temperror);
/** The checks that could not be completed: a DNS lookup failed, or they need the mail host, which could not be reached. */
const unknown = (report: CheckReport) => report.checks.filter((result) => result.temperror);
/** A check as the report names it, with its port: `tls 25`. */
const named = (result: CheckResult) => `${result.id}${result.port === undefined ? '' : ` ${result.port}`}`;
/** A check in the job's JSON details: its id, and its port when it has one (as in check --json). */
const reference = (result: CheckResult) => ({ id: result.id, ...(result.port === undefined ? {} : { port: result.port }) });

const capitalised = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** What the run found, in a few words: failures, checks that could not be completed, or neither. */
function summaryOf(reports: ReadonlyArray<{ domain: string; report?: CheckReport }>): string {
  const where = (test: (report: CheckReport | undefined) => boolean) =>
    reports.filter((entry) => test(entry.report)).map((entry) => entry.domain);
  const failures = where((report) => report === undefined || failing(report).length > 0);
  const unknowns = where((report) => report !== undefined && unknown(report).length > 0);
  const parts = [
    ...(failures.length > 0 ? [`failures in ${failures.join(', ')}`] : []),
    ...(unknowns.length > 0 ? [`checks that could not be completed in ${unknowns.join(', ')}`] : []),
  ];
  return parts.length === 0 ? 'every check passes or warns' : parts.join(', ');
}

export const healthJob: Job = async (environment) => {
  const { context } = environment;
  const { config } = context;
  const now = context.now();
  const domains = managedDomains(config);
  const resolver = new DnsResolver({ server: config.DNS_RESOLVER });
  const hostFacts = new Map<string, Promise<unknown>>();
  const [statusResult, reports] = await Promise.all([
    status(context, { jobs: false }).then(
      (result) => ({ line: hostLine(result) }),
      (error: unknown) => ({ error: asMailopsError(error) })
    ),
    mapLimited(domains, Math.min(4, environment.options.concurrency), async (domain) => {
      try {
        return { domain, report: await check(context, { domain, resolver, hostFacts }) };
      } catch (error) {
        return { domain, error: asMailopsError(error).message };
      }
    }),
  ]);
  const healthReports: HealthReport[] = [];
  const alerts: JobAlert[] = [];
  // The mail host's error is the same for every domain (its facts are shared): said once, in one alert.
  const hostError = reports.map((entry) => entry.report?.hostError).find((error) => error !== undefined);
  // The status fails with the same error then: the footer says it in a few words, the alert in full.
  const hostStatus = {
    line:
      'line' in statusResult
        ? statusResult.line
        : hostError?.code === statusResult.error.code
          ? hostErrorHeadline(hostError)
          : `the mail host's status could not be read: ${statusResult.error.message}`,
  };
  if (hostError !== undefined) {
    const affected = reports.filter((entry) => entry.report?.hostError !== undefined).map((entry) => entry.domain);
    alerts.push({
      kind: 'check-failed',
      severity: 'warning',
      subject: capitalised(hostErrorHeadline(hostError)),
      message:
        `${hostError.message} ${hostError.hint ?? ''}`.trim() +
        ` Only the checks that need nothing but DNS ran for ${affected.join(', ')}; the others are unknown.`,
    });
  }
  for (const entry of reports) {
    if (entry.report === undefined) {
      healthReports.push({ domain: entry.domain, host: hostStatus.line, error: entry.error });
      alerts.push({
        kind: 'check-failed',
        severity: 'warning',
        subject: `${entry.domain} could not be checked`,
        message: `${entry.domain} could not be checked: ${entry.error}`,
      });
      continue;
    }
    const { report } = entry;
    saveCheckResults(context.database, {
      domain: report.domain,
      checkedAt: now.toISOString(),
      worst: report.worst,
      checks: report.checks.map((result) => ({
        id: result.id,
        status: result.status,
        ...(result.port === undefined ? {} : { port: result.port }),
      })),
    });
    healthReports.push({ domain: report.domain, host: hostStatus.line, checks: report });
    const failed = failing(report);
    const dnsUnknown = unknown(report).filter((result) => !result.needsHost);
    if (failed.length > 0 || dnsUnknown.length > 0) {
      const parts = [
        ...(failed.length > 0
          ? [
              `${failed.length} check${failed.length === 1 ? '' : 's'} failed (${failed.map(named).join(', ')}): ${failed.map((result) => `${named(result)}: ${result.summary}`).join('; ')}`,
            ]
          : []),
        ...(dnsUnknown.length > 0
          ? [
              `${dnsUnknown.length} could not be checked (${dnsUnknown.map(named).join(', ')}): ${dnsUnknown.map((result) => `${named(result)}: ${result.summary}`).join('; ')}`,
            ]
          : []),
      ];
      alerts.push({
        kind: 'check-failed',
        severity: 'warning',
        subject:
          failed.length > 0
            ? `${displayDomain(report.domain)}: ${failed.length} check${failed.length === 1 ? '' : 's'} failed`
            : `${displayDomain(report.domain)}: ${dnsUnknown.length} check${dnsUnknown.length === 1 ? '' : 's'} could not be checked`,
        message: `${displayDomain(report.domain)}: ${parts.join('. ')}`,
      });
    }
  }
  const failedDomains = reports.filter((entry) => entry.report === undefined || !entry.report.ok).map((entry) => entry.domain);
  return {
    job: 'health',
    ok: failedDomains.length === 0,
    alerts,
    reports: healthReports,
    summary: `${domains.length} domain${domains.length === 1 ? '' : 's'} checked, ${summaryOf(reports)}; ${hostStatus.line}`,
    details: {
      host: hostStatus.line,
      // Once for the run: the checks of each domain that needed the host are in its `unknown`.
      ...(hostError === undefined ? {} : { hostError }),
      domains: reports.map((entry) =>
        entry.report === undefined
          ? { domain: entry.domain, ok: false, error: entry.error }
          : {
              domain: entry.domain,
              ok: entry.report.ok,
              worst: entry.report.worst,
              failed: failing(entry.report).map(reference),
              unknown: unknown(entry.report).map(reference),
            }
      ),
    },
  };
};
