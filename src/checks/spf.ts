// `spf`: exactly one SPF record, valid as a whole; no evaluation of it ends in permerror — for the host's addresses or
// any other (more than 10 DNS-querying terms, more than 2 void lookups, an `mx` with more than 10 hosts, a missing
// include target…); every address of the host gets `pass`; and no address outside the host's gets `pass` or
// `neutral` (spf-policy.ts finds them): a term that lets practically anyone in (`+all`, `?all`, a record without
// `all`, `ip4:0.0.0.0/0`, an include or redirect whose target does one of those) fails the check, any other term
// that lets in addresses that are not the host's (a mail provider's include, a network wider than the host) is a
// warning naming the term. Evaluations follow RFC 7208 (spf-evaluate.ts), with sender postmaster@<domain> and HELO
// chasquid's hostname.
//
// The fix is a record that was evaluated like the published one and found clean (spfFixCandidates, tried in order
// by the caller), so it never repeats the record the user already has and never breaks what works.

import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { zoneLine } from '../dns/txt.ts';
import type { HostAddress } from './host-addresses.ts';
import { sentence, temperrorOf, temperrorResult, type CheckResult } from './result.ts';
import type { SpfPolicyAnalysis } from './spf-policy.ts';
import { parseSpf, spfRecords } from './spf-record.ts';

export interface SpfInput {
  domain: string;
  hostname: string;
  txt: DnsAnswer<string[]>;
  /** The analysis of the one record (absent when there is not exactly one). */
  analysis: SpfPolicyAnalysis | undefined;
  /** The host's addresses (those that send mail). */
  addresses: HostAddress[];
  /** Whether the domain's MX is the mail host (then `mx` authorises it). */
  mxIsHost: boolean;
  /** The record the fix suggests (spfResult tries spfFixCandidates() and picks one); the recommended record when absent. */
  fixRecord?: string | undefined;
}

/** The record we recommend: `mx` when the MX is the host, its name otherwise, plus addresses DNS does not list. */
export function recommendedSpf(input: Pick<SpfInput, 'hostname' | 'addresses' | 'mxIsHost'>): string {
  const extra = input.addresses.filter((address) => !address.inDns).map((address) => `ip${address.family}:${address.address}`);
  return ['v=spf1', input.mxIsHost ? 'mx' : `a:${input.hostname}`, ...extra, '-all'].join(' ');
}

const normalise = (record: string) => record.trim().split(/ +/).join(' ').toLowerCase();
const isAll = (term: string) => /^[+~?-]?all$/i.test(term);

/** The record with terms inserted before its first `all` (or its redirect, or at the end). */
function withTerms(record: string, terms: string[]): string {
  const parts = record.trim().split(/ +/);
  const allIndex = parts.findIndex(isAll);
  const redirectIndex = parts.findIndex((part) => /^redirect=/i.test(part));
  const at = allIndex >= 0 ? allIndex : redirectIndex >= 0 ? redirectIndex : parts.length;
  return [...parts.slice(0, at), ...terms, ...parts.slice(at)].join(' ');
}

/** The record without some terms, ending in `-all` when nothing else ends it. */
function without(record: string, terms: string[]): string {
  const parts = record
    .trim()
    .split(/ +/)
    .filter((part) => !terms.some((term) => term.toLowerCase() === part.toLowerCase()));
  if (!parts.some(isAll) && !parts.some((part) => /^redirect=/i.test(part))) parts.push('-all');
  return parts.join(' ');
}

/** The host's own terms: what authorises every sending address. */
function hostTerms(input: Pick<SpfInput, 'hostname' | 'addresses' | 'mxIsHost'>): string[] {
  return recommendedSpf(input).split(' ').slice(1, -1);
}

/**
 * Records that would fix what the analysis found, smallest change first: without the terms that let anyone in, with
 * the host's own terms (or addresses) where it is not authorised, then also without the terms that let other
 * senders in, then the records we recommend. The caller keeps the first that, evaluated like the published one,
 * passes — or, when the published record fails, at least no longer fails (warnings about other senders the user
 * chose to authorise stay theirs to decide).
 */
export function spfFixCandidates(input: SpfInput): string[] {
  const records = spfRecords(input.txt);
  const current = records.length === 1 ? (records[0] ?? '') : '';
  const analysis = input.analysis;
  const candidates: string[] = [];
  // A record that is a permerror somewhere is replaced, not trimmed: which of its terms to keep is not ours to guess.
  const broken =
    analysis === undefined ||
    [...analysis.host, ...analysis.failures].some((entry) => entry.evaluation.result === 'permerror') ||
    parseSpf(current).errors.length > 0;
  if (analysis !== undefined && current !== '' && !broken) {
    const named = (openings: SpfPolicyAnalysis['openings']) =>
      openings.map((opening) => opening.term).filter((term) => term !== '(no all)');
    const unauthorised = analysis.host
      .filter((entry) => entry.evaluation.result !== 'pass')
      .map((entry) => `ip${entry.address.includes(':') ? 6 : 4}:${entry.address}`);
    for (const trimmed of [
      without(current, named(analysis.openings.filter((opening) => opening.everyone))),
      without(current, named(analysis.openings)),
    ]) {
      candidates.push(trimmed, withTerms(trimmed, hostTerms(input)));
      if (unauthorised.length > 0) candidates.push(withTerms(trimmed, unauthorised));
    }
  }
  const addressesOnly = ['v=spf1', ...input.addresses.map((address) => `ip${address.family}:${address.address}`), '-all'].join(' ');
  candidates.push(recommendedSpf(input), recommendedSpf({ ...input, mxIsHost: false }), addressesOnly);
  const seen = new Set([normalise(current)]);
  return candidates.filter((candidate) => {
    const key = normalise(candidate);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function evaluateSpf(input: SpfInput): CheckResult {
  const id = 'spf';
  const { domain, txt, analysis } = input;
  if (txt.status === 'temperror') return temperrorResult(id, txt, domain, 'TXT');
  const records = spfRecords(txt);
  const recommended = zoneLine(domain, 'TXT', input.fixRecord ?? recommendedSpf(input));
  const publish = `Publish: ${recommended}`;
  if (records.length === 0) return { id, status: 'fail', summary: `${domain} publishes no SPF record`, fix: publish };
  if (records.length > 1) {
    return {
      id,
      status: 'fail',
      summary: `${domain} publishes ${records.length} SPF records (receivers treat that as a permanent error)`,
      fix: `Keep exactly one SPF record, for example: ${recommended}`,
    };
  }
  const record = records[0] ?? '';
  if (analysis === undefined) throw new Error('evaluateSpf needs the analysis of the record');
  const evaluations = [...analysis.host.map((entry) => entry.evaluation), ...analysis.failures.map((entry) => entry.evaluation)];
  const temperror = evaluations.find((evaluation) => evaluation.result === 'temperror');
  if (temperror) {
    return temperrorOf(
      id,
      temperror.reason,
      'Make sure the name servers answer for every name the record refers to (the message says which), then run the check again.'
    );
  }
  const syntax = parseSpf(record).errors;
  if (syntax.length > 0)
    return { id, status: 'fail', summary: `"${record}" is invalid: ${syntax.join('; ')}`, fix: `Correct the record: ${recommended}` };
  const hostError = analysis.host.find((entry) => entry.evaluation.result === 'permerror');
  const otherError = analysis.failures.find((entry) => entry.evaluation.result === 'permerror');
  const permerror = hostError ?? otherError;
  if (permerror) {
    const whom = hostError ? `for ${hostError.address}` : `for senders that are not the mail host (${otherError?.address})`;
    return {
      id,
      status: 'fail',
      summary: `receivers get a permanent error from "${record}" ${whom}: ${permerror.evaluation.reason}`,
      fix: `Publish a record without the problem: ${recommended}`,
    };
  }
  const wide = analysis.openings.filter((opening) => opening.everyone);
  if (wide.length > 0) {
    const described = wide.map(
      (opening) =>
        `${opening.term === '(no all)' ? 'the record has no "all" term, so' : opening.via === opening.term ? opening.term : `${opening.term} (${opening.via})`} gives ${opening.result} to every address (${opening.network}${opening.term === '(no all)' ? '' : ''})`
    );
    const named = wide.map((opening) => (opening.term === '(no all)' ? 'add -all' : `remove ${opening.term}`)).join(', ');
    return {
      id,
      status: 'fail',
      summary: `"${record}" lets anyone send as ${domain}: ${described.join('; ')}`,
      fix: `${named.charAt(0).toUpperCase()}${named.slice(1)}: ${publish}`,
    };
  }
  const unauthorised = analysis.host.filter((entry) => entry.evaluation.result !== 'pass');
  if (unauthorised.length > 0) {
    return {
      id,
      status: 'fail',
      summary: `"${record}" does not authorise ${unauthorised.map((entry) => `${entry.address} (${entry.evaluation.result}: ${entry.evaluation.reason})`).join(', ')}`,
      fix: publish,
    };
  }
  const notes: string[] = [];
  const fixes: string[] = [];
  for (const opening of analysis.openings) {
    notes.push(
      `${opening.via === opening.term ? opening.term : `${opening.term} (${opening.via})`} also gives ${opening.result} to addresses that are not the mail host's, such as ${opening.example}${opening.variable ? '' : ` (${opening.network})`}`
    );
  }
  if (analysis.openings.length > 0)
    fixes.push(`If those are not your senders, remove ${analysis.openings.map((opening) => opening.term).join(', ')}: ${publish}`);
  const otherVariable = analysis.variableTerms.filter((term) => !analysis.openings.some((opening) => opening.via === term));
  if (otherVariable.length > 0)
    notes.push(
      `${otherVariable.join(', ')} depend${otherVariable.length === 1 ? 's' : ''} on the sender or on reverse DNS, so other senders may match ${otherVariable.length === 1 ? 'it' : 'them'}`
    );
  if (analysis.usesPtr) {
    notes.push('it uses the "ptr" mechanism, which RFC 7208 says not to use and some receivers ignore');
    if (fixes.length === 0) fixes.push(`Replace ptr with ip4:/ip6: terms: ${publish}`);
  } else if (otherVariable.length > 0 && fixes.length === 0) fixes.push(`Unless you need them: ${publish}`);
  const addresses = analysis.host.map((entry) => entry.address).join(', ');
  const summary = sentence([
    `"${record}" authorises ${addresses || 'no address (none is known)'} with ${analysis.lookups} DNS lookup${analysis.lookups === 1 ? '' : 's'}`,
    ...notes,
  ]);
  return fixes.length === 0 ? { id, status: 'pass', summary } : { id, status: 'warn', summary, fix: fixes.join('; ') };
}
