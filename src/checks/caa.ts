// `caa` (RFC 8659): which CAs the domain's CAA records allow to issue certificates — the one mailops orders from
// (ACME_DIRECTORY) must be among them, or every renewal fails at the CA. Optional: no CAA records at all lets any CA
// issue, which works, so it is a warning whose fix is the exact record for the configured CA (with `accounturi`, RFC
// 8657, when mailops's ACME account is known: then only that account can obtain certificates there). The relevant
// records are the first set found climbing from the domain towards the root (RFC 8659 section 3).

import type { CaaRecord } from 'node:dns';
import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { temperrorResult, type CheckResult } from './result.ts';

/** The CAA identities (issuer domains) of well-known ACME CAs, by the host of their directory. */
const knownIdentities: Record<string, string[]> = {
  'acme-v02.api.letsencrypt.org': ['letsencrypt.org'],
  'acme-staging-v02.api.letsencrypt.org': ['letsencrypt.org'],
  'acme.zerossl.com': ['sectigo.com'],
  'dv.acme-v02.api.pki.goog': ['pki.goog'],
  'api.buypass.com': ['buypass.com'],
  'acme.ssl.com': ['ssl.com'],
};

/** The issuer domains that stand for the CA of this ACME directory in CAA records; empty when unknown. */
export function caaIdentities(directoryUrl: string, advertised?: unknown): string[] {
  if (Array.isArray(advertised) && advertised.every((entry) => typeof entry === 'string') && advertised.length > 0) return advertised;
  try {
    return knownIdentities[new URL(directoryUrl).hostname] ?? [];
  } catch {
    return [];
  }
}

export interface CaaInput {
  domain: string;
  /** The answers for the domain and each parent up to the top-level domain, nearest first. */
  answers: Array<{ name: string; answer: DnsAnswer<CaaRecord> }>;
  directoryUrl: string;
  /** The CA's CAA identities (caaIdentities). */
  identities: string[];
  /** mailops's ACME account URL at that CA, when it has one. */
  accountUri?: string;
}

/** An `issue` value: the issuer domain and its parameters (`accounturi=…`). */
function parseIssue(value: string): { issuer: string; parameters: Record<string, string> } {
  const [issuer = '', ...rest] = value.split(';');
  const parameters = Object.fromEntries(
    rest
      .map((part) => part.trim())
      .filter((part) => part.includes('='))
      .map((part) => [part.slice(0, part.indexOf('=')).trim().toLowerCase(), part.slice(part.indexOf('=') + 1).trim()])
  );
  return { issuer: issuer.trim().toLowerCase(), parameters };
}

const describe = (record: CaaRecord): string => {
  const entry = (Object.entries(record) as Array<[string, unknown]>).find(([key]) => key !== 'critical' && key !== 'type');
  const [tag, value] = entry ?? ['?', ''];
  return `${record.critical} ${tag} "${String(value)}"`;
};

/** The CAA record (zone-file value) that lets the CA with these identities issue, for mailops's account when known. */
export function recommendedCaa(identities: readonly string[], accountUri?: string): string | undefined {
  const issuer = identities[0];
  return issuer === undefined ? undefined : `0 issue "${issuer}${accountUri === undefined ? '' : `; accounturi=${accountUri}`}"`;
}

export function evaluateCaa({ domain, answers, directoryUrl, identities, accountUri }: CaaInput): CheckResult {
  const id = 'caa';
  const issuer = identities[0];
  const wanted = recommendedCaa(identities, accountUri);
  const recordLine = (name: string) =>
    wanted === undefined ? `${name}. 3600 IN CAA 0 issue "<the CAA identity your CA documents>"` : `${name}. 3600 IN CAA ${wanted}`;
  const ca = issuer === undefined ? `the CA of ${directoryUrl}` : `${issuer} (ACME_DIRECTORY)`;
  for (const { name, answer } of answers) {
    if (answer.status === 'temperror') return temperrorResult(id, answer, name, 'CAA');
    if (answer.status !== 'ok' || answer.records.length === 0) continue;
    const where = name === domain ? domain : `${name} (above ${domain})`;
    const issues = answer.records.filter((record) => record.issue !== undefined).map((record) => parseIssue(record.issue as string));
    // Sorted: DNS gives a record set in any order, and the summary should not change with it.
    const listed = answer.records.map(describe).sort().join(', ');
    // No `issue` property: issuance of non-wildcard names is not restricted (issuewild, iodef only).
    if (issues.length === 0) return { id, status: 'pass', summary: `CAA at ${where}: ${listed}; no issue property, so any CA may issue` };
    const allowed = issues.filter((entry) => entry.issuer !== '' && identities.includes(entry.issuer));
    if (issuer === undefined) {
      return {
        id,
        status: 'warn',
        summary: `CAA at ${where}: ${listed}; which of them the CA of ${directoryUrl} answers to is not known to mailops`,
        fix: `Check that the CAA identity your CA documents is among them, or add ${recordLine(name)}`,
      };
    }
    if (allowed.length === 0) {
      return {
        id,
        status: 'fail',
        summary: `CAA at ${where} allows only ${issues.map((entry) => entry.issuer || 'no CA').join(', ')}: ${ca} may not issue the certificate mailops renews`,
        fix: `Add ${recordLine(name)} (keep the records of the CAs you also use)`,
      };
    }
    const bound = allowed.filter((entry) => entry.parameters.accounturi !== undefined);
    if (accountUri !== undefined && bound.length === allowed.length && !bound.some((entry) => entry.parameters.accounturi === accountUri)) {
      return {
        id,
        status: 'fail',
        summary: `CAA at ${where} allows ${issuer} only for the account(s) ${bound.map((entry) => entry.parameters.accounturi).join(', ')}, not mailops's (${accountUri})`,
        fix: `Add ${recordLine(name)}`,
      };
    }
    return { id, status: 'pass', summary: `CAA at ${where}: ${listed} — ${issuer} may issue` };
  }
  return {
    id,
    status: 'warn',
    summary: `no CAA records for ${domain}: any CA may issue certificates for it`,
    fix: `To allow only ${ca}${accountUri === undefined ? '' : ", for mailops's account"}: ${recordLine(domain)}`,
  };
}
