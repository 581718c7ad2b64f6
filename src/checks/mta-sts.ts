// `mta-sts` (RFC 8461) and `tls-rpt` (RFC 8460): optional; checked when published. Errors are warnings (a broken
// MTA-STS policy can make senders that enforce it refuse to deliver, but its absence harms nobody); an absent record
// is a skip with a hint saying what publishing it would bring. The policy itself is fetched with mailauth, through our
// resolver, from https://mta-sts.<domain>/.well-known/mta-sts.txt.

import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { joinTxt, zoneLine } from '../dns/txt.ts';
import { temperrorResult, type CheckResult } from './result.ts';

export interface MtaStsPolicy {
  mode: string;
  mx?: string[];
  maxAge?: number;
}

export interface MtaStsInput {
  domain: string;
  hostname: string;
  txt: DnsAnswer<string[]>;
  /** The fetched policy, or why it could not be fetched; undefined when there was nothing to fetch. */
  policy: { policy: MtaStsPolicy } | { error: string } | undefined;
}

const stsRecord = /^v=STSv1\s*;/i;

/** Whether `mx` matches a policy's mx pattern (`*.example.com` matches one leftmost label). */
export function mxMatches(pattern: string, mx: string): boolean {
  const wanted = pattern.toLowerCase().replace(/\.$/, '');
  if (!wanted.startsWith('*.')) return wanted === mx;
  const suffix = wanted.slice(1);
  return mx.endsWith(suffix) && !mx.slice(0, -suffix.length).includes('.') && mx.length > suffix.length;
}

export function evaluateMtaSts({ domain, hostname, txt, policy }: MtaStsInput): CheckResult {
  const id = 'mta-sts';
  const name = `_mta-sts.${domain}`;
  if (txt.status === 'temperror') return temperrorResult(id, txt, name, 'TXT');
  const records = txt.status === 'ok' ? txt.records.map(joinTxt).filter((text) => stsRecord.test(text.trim())) : [];
  const policyText = `version: STSv1\\nmode: enforce\\nmx: ${hostname}\\nmax_age: 604800`;
  if (records.length === 0) {
    return {
      id,
      status: 'skip',
      summary: 'no MTA-STS policy published (optional)',
      hint: `To make senders require TLS to ${hostname}: publish ${zoneLine(name, 'TXT', 'v=STSv1; id=1')} and serve "${policyText}" at https://mta-sts.${domain}/.well-known/mta-sts.txt`,
    };
  }
  if (records.length > 1)
    return {
      id,
      status: 'warn',
      summary: `${name} holds ${records.length} MTA-STS records, so senders ignore the policy`,
      fix: `Keep exactly one: ${zoneLine(name, 'TXT', 'v=STSv1; id=1')}`,
    };
  const idMatch = /(?:^|;)\s*id=([A-Za-z0-9]{1,32})\s*(?:;|$)/.exec(records[0] ?? '');
  if (!idMatch)
    return {
      id,
      status: 'warn',
      summary: `"${records[0]}" has no valid id= (1 to 32 letters and digits)`,
      fix: `Publish: ${zoneLine(name, 'TXT', 'v=STSv1; id=1')}`,
    };
  if (policy === undefined || 'error' in policy) {
    return {
      id,
      status: 'warn',
      summary: `the policy at https://mta-sts.${domain}/.well-known/mta-sts.txt cannot be fetched: ${policy?.error ?? 'unknown error'}`,
      fix: `Serve "${policyText}" as text/plain at https://mta-sts.${domain}/.well-known/mta-sts.txt with a valid certificate for mta-sts.${domain}, or remove ${name}`,
    };
  }
  const { mode, mx = [] } = policy.policy;
  if (mode !== 'none' && !mx.some((pattern) => mxMatches(pattern, hostname))) {
    return {
      id,
      status: 'warn',
      summary: `the policy (mode ${mode}) lists mx ${mx.join(', ') || 'none'}, not ${hostname}: senders that enforce it will not deliver`,
      fix: `Add "mx: ${hostname}" to the policy at https://mta-sts.${domain}/.well-known/mta-sts.txt and change the id in ${name}`,
    };
  }
  if (mode !== 'enforce') {
    return {
      id,
      status: 'warn',
      summary: `the policy is in mode ${mode}: senders do not require TLS yet`,
      fix: `Once TLS reports look clean, set "mode: enforce" in the policy and change the id in ${name}`,
    };
  }
  return { id, status: 'pass', summary: `mode enforce, id ${idMatch[1]}, covers ${hostname}` };
}

export interface TlsRptInput {
  domain: string;
  txt: DnsAnswer<string[]>;
  /** Where the recommended record sends reports (mailops's report address); postmaster@ when not given. */
  reportAddress?: string;
}

export function evaluateTlsRpt({ domain, txt, reportAddress = `postmaster@${domain}` }: TlsRptInput): CheckResult {
  const id = 'tls-rpt';
  const name = `_smtp._tls.${domain}`;
  const recommended = zoneLine(name, 'TXT', `v=TLSRPTv1; rua=mailto:${reportAddress}`);
  if (txt.status === 'temperror') return temperrorResult(id, txt, name, 'TXT');
  const records = txt.status === 'ok' ? txt.records.map(joinTxt).filter((text) => /^v=TLSRPTv1\s*(;|$)/.test(text.trim())) : [];
  if (records.length === 0) {
    return {
      id,
      status: 'skip',
      summary: 'no TLS reporting address published (optional)',
      hint: `To receive reports of TLS failures from senders: ${recommended}`,
    };
  }
  if (records.length > 1)
    return {
      id,
      status: 'warn',
      summary: `${name} holds ${records.length} TLS-RPT records, so senders ignore them`,
      fix: `Keep exactly one: ${recommended}`,
    };
  const text = records[0] ?? '';
  const rua = /(?:^|;)\s*rua=([^;]*)/.exec(text)?.[1]?.trim();
  if (rua === undefined || rua === '')
    return { id, status: 'warn', summary: `"${text}" has no rua= reporting address`, fix: `Publish: ${recommended}` };
  const uris = rua.split(',').map((uri) => uri.trim());
  const invalid = uris.filter((uri) => !/^mailto:[^@\s]+@[^@\s]+$/i.test(uri) && !/^https:\/\/\S+$/i.test(uri));
  if (invalid.length > 0)
    return { id, status: 'warn', summary: `rua ${invalid.join(', ')} is not a mailto: or https: URI`, fix: `Publish: ${recommended}` };
  return { id, status: 'pass', summary: `reports go to ${uris.join(', ')}` };
}
