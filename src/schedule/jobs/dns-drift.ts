// The dns-drift job: dns-diff for every domain of MAIL_DOMAINS (one resolver and one read of the host's facts for all
// of them, a few domains at a time), turned into alerts that follow changes only:
//   - a record that starts drifting (or drifts to yet another value) is new drift: one alert per domain, naming each
//     record with what was expected and what DNS answers, paging the on-call role;
//   - drift that was alerted and is unchanged says nothing;
//   - a drifting record that matches again is a recovery: one message per domain, without a page.
// Each drifting record is an open alert `drift:<domain>:<name> <type>` whose fingerprint is its expected and actual
// values. A record that could not be looked up keeps its state until it can.

import { DnsResolver } from '../../dns/caching-resolver.ts';
import { driftAdvice, driftFingerprint, presentValues, recordKey, type DriftEntry } from '../../dns/drift.ts';
import { asMailopsError } from '../../errors.ts';
import { managedDomains } from '../../ops/context.ts';
import { dnsDiff, type DnsDiffResult } from '../../ops/dns-diff.ts';
import { displayDomain } from '../../validation/domain.ts';
import type { Job, JobEnvironment } from '../job.ts';
import { mapLimited } from '../limited.ts';
import type { AlertFact, JobAlert } from '../outcome.ts';

interface DriftState {
  entry: DriftEntry;
}

const prefix = (domain: string) => `drift:${domain}:`;

function describe(entries: readonly DriftEntry[]): string {
  return entries
    .map(
      (entry) =>
        `${entry.name} ${entry.type} (expected ${presentValues(entry.type, entry.expected)}, actual ${presentValues(entry.type, entry.actual)})`
    )
    .join('; ');
}

/** Each record as a fact of the alert: why it drifts, and what was expected against what DNS answers. */
function facts(entries: readonly DriftEntry[]): AlertFact[] {
  return entries.map((entry) => ({
    label: `${entry.name} ${entry.type}`,
    text: entry.reason,
    detail: `expected: ${presentValues(entry.type, entry.expected)}\nactual:   ${presentValues(entry.type, entry.actual)}`,
  }));
}

/** Updates the open drift alerts of one domain and says what changed. */
function follow(environment: JobEnvironment, result: DnsDiffResult): JobAlert[] {
  const { alerts } = environment;
  const now = environment.context.now().toISOString();
  const unknown = new Set(result.unknown.map((entry) => recordKey(entry.name, entry.type)));
  const current = new Map(result.drift.map((entry) => [`${prefix(result.domain)}${recordKey(entry.name, entry.type)}`, entry]));
  const fresh: DriftEntry[] = [];
  for (const [key, entry] of current) {
    const fingerprint = driftFingerprint(entry);
    if (alerts.get(key)?.fingerprint === fingerprint) continue;
    alerts.save<DriftState>({ key, kind: 'drift', fingerprint, updatedAt: now, state: { entry } });
    fresh.push(entry);
  }
  const recovered: DriftEntry[] = [];
  for (const open of alerts.list<DriftState>(prefix(result.domain))) {
    const { entry } = open.state;
    if (current.has(open.key) || unknown.has(recordKey(entry.name, entry.type))) continue;
    alerts.close(open.key);
    recovered.push(entry);
  }
  const messages: JobAlert[] = [];
  if (fresh.length > 0) {
    messages.push({
      kind: 'drift',
      severity: 'critical',
      subject: `DNS drift in ${displayDomain(result.domain)}: ${fresh.length} record${fresh.length === 1 ? '' : 's'}`,
      message: `DNS drift in ${displayDomain(result.domain)}: ${describe(fresh)}. ${driftAdvice(result.domain, fresh)}`,
      facts: facts(fresh),
    });
  }
  if (recovered.length > 0) {
    const names = recovered.map((entry) => `${entry.name} ${entry.type}`).join(', ');
    messages.push({
      kind: 'recovery',
      severity: 'resolved',
      subject: `DNS of ${displayDomain(result.domain)} matches again`,
      message: `DNS of ${displayDomain(result.domain)} matches what is expected again: ${names}.`,
    });
  }
  return messages;
}

export const dnsDriftJob: Job = async (environment) => {
  const { context } = environment;
  const domains = managedDomains(context.config);
  const resolver = new DnsResolver({ server: context.config.DNS_RESOLVER });
  const hostFacts = new Map<string, Promise<unknown>>();
  const results = await mapLimited(domains, environment.options.concurrency, async (domain) => {
    try {
      return { domain, result: await dnsDiff(context, { domain, resolver, hostFacts }) };
    } catch (error) {
      context.logger.warn({ err: error, domain }, 'dns-drift could not look at a domain');
      return { domain, error: asMailopsError(error).message };
    }
  });
  const alerts: JobAlert[] = [];
  const drifting: Array<{ domain: string; drift: DriftEntry[] }> = [];
  const failed: Array<{ domain: string; error: string }> = [];
  for (const entry of results) {
    if (entry.result === undefined) {
      failed.push({ domain: entry.domain, error: entry.error ?? 'failed' });
      continue;
    }
    alerts.push(...follow(environment, entry.result));
    if (entry.result.drift.length > 0) drifting.push({ domain: entry.domain, drift: entry.result.drift });
    for (const unknown of entry.result.unknown)
      failed.push({ domain: entry.domain, error: `${unknown.name} ${unknown.type}: ${unknown.error}` });
  }
  const records = drifting.reduce((sum, entry) => sum + entry.drift.length, 0);
  const summary = [
    `${domains.length} domain${domains.length === 1 ? '' : 's'}`,
    records === 0
      ? 'no drift'
      : `${records} drifting record${records === 1 ? '' : 's'} in ${drifting.map((entry) => entry.domain).join(', ')}`,
    ...(failed.length > 0 ? [`${failed.length} lookup${failed.length === 1 ? '' : 's'} failed`] : []),
  ].join(', ');
  return { job: 'dns-drift', ok: records === 0 && failed.length === 0, alerts, reports: [], summary, details: { drifting, failed } };
};
