// `e2e`: a real message, submitted through the host's submission service as mailops' probe sender (src/probe),
// captured on the host after chasquid signed it, read back over SSH and verified with mailauth's authenticate() —
// against DNS as it is now, with the host's address as the connecting IP, chasquid's hostname as HELO and the probe
// as envelope sender — as a receiving server would. It passes when DKIM (aligned with the domain), SPF and DMARC pass.

import type { AuthenticateResult } from 'mailauth';
import { temperrorOf, type CheckResult } from './result.ts';

export interface E2eVerdicts {
  dkim: Array<{ domain: string; selector: string; result: string; comment?: string }>;
  spf: { result: string; comment?: string };
  dmarc: { result: string; comment?: string };
}

/** What a verifier concluded, from mailauth's result. */
export function verdictsOf(result: AuthenticateResult): E2eVerdicts {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? { comment: value } : {});
  return {
    dkim: result.dkim.results.map((signature) => ({
      domain: (signature.signingDomain ?? '').toLowerCase(),
      selector: signature.selector ?? '',
      result: signature.status?.result ?? 'none',
      ...text(signature.status?.comment),
    })),
    spf: { result: result.spf ? result.spf.status.result : 'none', ...text(result.spf ? result.spf.status.comment : undefined) },
    dmarc: { result: result.dmarc ? result.dmarc.status.result : 'none', ...text(result.dmarc ? result.dmarc.status.comment : undefined) },
  };
}

export interface E2eInput {
  domain: string;
  sender: string;
  /** The connecting address used for SPF. */
  ip: string;
  outcome: { verdicts: E2eVerdicts } | { failed: string; fix: string };
}

export function evaluateE2e({ domain, sender, ip, outcome }: E2eInput): CheckResult {
  const id = 'e2e';
  if ('failed' in outcome) return { id, status: 'fail', summary: outcome.failed, fix: outcome.fix };
  const { dkim, spf, dmarc } = outcome.verdicts;
  const aligned = dkim.filter((signature) => signature.domain === domain || signature.domain.endsWith(`.${domain}`));
  // A verifier that could not look something up has no verdict: the message may be fine.
  const unsure = [
    ...aligned.map((signature) => ({ what: `DKIM (s=${signature.selector})`, ...signature })),
    { what: 'SPF', ...spf },
    { what: 'DMARC', ...dmarc },
  ].filter((verdict) => verdict.result === 'temperror');
  if (unsure.length > 0) {
    return temperrorOf(
      id,
      `the message from ${sender} was sent, but its ${unsure.map((verdict) => `${verdict.what}${verdict.comment ? ` (${verdict.comment})` : ''}`).join(', ')} could not be verified`,
      'Make sure the name servers answer for the domain, then run the check again.'
    );
  }
  const dkimPass = aligned.find((signature) => signature.result === 'pass');
  const parts = [
    dkimPass
      ? `DKIM pass (d=${dkimPass.domain}, s=${dkimPass.selector})`
      : aligned.length === 0
        ? 'DKIM: the message was not signed for the domain'
        : `DKIM ${aligned.map((signature) => `${signature.result} (s=${signature.selector}${signature.comment ? `: ${signature.comment}` : ''})`).join(', ')}`,
    `SPF ${spf.result} (${ip})`,
    `DMARC ${dmarc.result}`,
  ];
  const summary = `message from ${sender}: ${parts.join(', ')}`;
  const fixes: string[] = [];
  if (!dkimPass) {
    fixes.push(
      aligned.length === 0
        ? `Make chasquid sign mail of ${domain}: mailops dkim-rotate ${domain} (see the dkim check)`
        : `Publish the host's DKIM key as the dkim check says, then run the check again`
    );
  }
  if (spf.result !== 'pass') fixes.push(`Authorise ${ip} in the SPF record of ${domain} (see the spf check)`);
  if (dmarc.result !== 'pass' && fixes.length === 0) fixes.push(`Publish a DMARC record for ${domain} (see the dmarc check)`);
  if (dkimPass && spf.result === 'pass' && dmarc.result === 'pass') return { id, status: 'pass', summary };
  return { id, status: 'fail', summary, fix: fixes.join('; ') };
}
