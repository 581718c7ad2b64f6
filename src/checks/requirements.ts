// Which of the big mailbox providers' sender requirements a domain meets, from the check results.
// Gmail and Yahoo (February 2024) and Outlook (May 2025) ask senders for SPF and DKIM that pass, a DMARC record (p=none
// is enough) aligned with them, and — Gmail and Yahoo — forward-confirmed reverse DNS and TLS for the connection.
// A requirement is met when its checks did not fail (a warning, such as p=none, still meets it).

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
  met: boolean;
  /** The requirements not met. */
  missing: string[];
}

export interface RequirementsSummary {
  providers: Record<Provider, ProviderVerdict>;
  /** One line for people: `Gmail: met · Yahoo: met · Outlook: not met (DKIM)`. */
  line: string;
}

function requirementMet(requirement: Requirement, results: readonly CheckResult[]): boolean {
  // TLS matters between servers: the service on port 25 (the smtp service), whichever port the lab gives it.
  const relevant = results.filter((result) => result.id === requirement && (requirement !== 'tls' || result.service === 'smtp'));
  return relevant.length > 0 && relevant.every((result) => result.status === 'pass' || result.status === 'warn');
}

export function providerRequirements(results: readonly CheckResult[]): RequirementsSummary {
  const providers = {} as Record<Provider, ProviderVerdict>;
  for (const provider of Object.keys(requirementsOf) as Provider[]) {
    const missing = requirementsOf[provider].filter((requirement) => !requirementMet(requirement, results)).map((requirement) => requirementNames[requirement]);
    providers[provider] = { met: missing.length === 0, missing };
  }
  const line = (Object.keys(providers) as Provider[]).map((provider) => {
    const verdict = providers[provider];
    return `${providerNames[provider]}: ${verdict.met ? 'requirements met' : `not met (${verdict.missing.join(', ')})`}`;
  }).join(' · ');
  return { providers, line };
}
