// Which of the big mailbox providers' sender requirements a domain meets, from the check results.
// Gmail and Yahoo (February 2024) and Outlook (May 2025) ask senders for SPF and DKIM that pass, a DMARC record (p=none
// is enough) aligned with them, and — Gmail and Yahoo — forward-confirmed reverse DNS and TLS for the connection.
// A requirement is met when its checks did not fail (a warning, such as p=none, still meets it), and unknown when a
// check could not tell (a temperror: a DNS lookup failed, or the mail host could not be reached) — never "not met".

import type { CheckResult } from './result.ts';

export type Provider = 'gmail' | 'yahoo' | 'outlook';

type Requirement = 'spf' | 'dkim' | 'dmarc' | 'ptr' | 'tls';

const requirementsOf: Record<Provider, Requirement[]> = {
  gmail: ['spf', 'dkim', 'dmarc', 'ptr', 'tls'],
  yahoo: ['spf', 'dkim', 'dmarc', 'ptr', 'tls'],
  outlook: ['spf', 'dkim', 'dmarc'],
};

const providerNames: Record<Provider, string> = { gmail: 'Gmail', yahoo: 'Yahoo', outlook: 'Outlook' };
const requirementNames: Record<Requirement, string> = { spf: 'SPF', dkim: 'DKIM', dmarc: 'DMARC', ptr: 'reverse DNS', tls: 'TLS' };

export interface ProviderVerdict {
  /** `met`: every requirement's checks passed or warned; `not-met`: one failed; `unknown`: none failed, but one could not be checked. */
  status: 'met' | 'not-met' | 'unknown';
  /** The same as `status === 'met'`. */
  met: boolean;
  /** The requirements whose checks failed. */
  missing: string[];
  /** The requirements that could not be checked (a DNS lookup failed, or the mail host could not be reached). */
  unknown: string[];
}

export interface RequirementsSummary {
  providers: Record<Provider, ProviderVerdict>;
  /** One line for people: `Gmail: requirements met · Yahoo: unknown (SPF, DKIM) · Outlook: not met (DKIM)`. */
  line: string;
}

type RequirementState = 'met' | 'not-met' | 'unknown';

function requirementState(requirement: Requirement, results: readonly CheckResult[]): RequirementState {
  // TLS matters between servers: the service on port 25 (the smtp service), whichever port the lab gives it. A tls
  // result without a service is one that could not learn the listeners (the mail host could not be reached).
  const relevant = results.filter(
    (result) => result.id === requirement && (requirement !== 'tls' || result.service === 'smtp' || result.service === undefined)
  );
  if (relevant.length === 0) return 'not-met';
  if (relevant.some((result) => result.status === 'fail' && !result.temperror)) return 'not-met';
  if (relevant.some((result) => result.temperror)) return 'unknown';
  return relevant.every((result) => result.status === 'pass' || result.status === 'warn') ? 'met' : 'not-met';
}

function verdictLine(name: string, verdict: ProviderVerdict): string {
  if (verdict.status === 'met') return `${name}: requirements met`;
  if (verdict.status === 'unknown') return `${name}: unknown (${verdict.unknown.join(', ')} could not be checked)`;
  return `${name}: not met (${verdict.missing.join(', ')}${verdict.unknown.length > 0 ? `; ${verdict.unknown.join(', ')} unknown` : ''})`;
}

export function providerRequirements(results: readonly CheckResult[]): RequirementsSummary {
  const providers = {} as Record<Provider, ProviderVerdict>;
  for (const provider of Object.keys(requirementsOf) as Provider[]) {
    const states = requirementsOf[provider].map(
      (requirement) => [requirementNames[requirement], requirementState(requirement, results)] as const
    );
    const missing = states.filter(([, state]) => state === 'not-met').map(([name]) => name);
    const unknown = states.filter(([, state]) => state === 'unknown').map(([name]) => name);
    const status = missing.length > 0 ? 'not-met' : unknown.length > 0 ? 'unknown' : 'met';
    providers[provider] = { status, met: status === 'met', missing, unknown };
  }
  const line = (Object.keys(providers) as Provider[])
    .map((provider) => verdictLine(providerNames[provider], providers[provider]))
    .join(' · ');
  return { providers, line };
}
