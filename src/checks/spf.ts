// `spf`: exactly one SPF record; valid syntax; at most 10 DNS-querying terms and 2 void lookups counted through
// includes and redirects (spf-record.ts); no `+all` or `?all`; and it authorises every address of the host, as
// mailauth's spf() evaluates it for each address (sender postmaster@<domain>, HELO = chasquid's hostname).

import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { zoneLine } from '../dns/txt.ts';
import type { HostAddress } from './host-addresses.ts';
import { sentence, temperrorResult, type CheckResult } from './result.ts';
import { allTerm, parseSpf, spfRecords, type SpfWalk } from './spf-record.ts';

export interface SpfAuthorisation {
  address: string;
  /** mailauth's result: pass, fail, softfail, neutral, none, permerror, temperror. */
  result: string;
  comment?: string;
}

export interface SpfInput {
  domain: string;
  hostname: string;
  txt: DnsAnswer<string[]>;
  /** The walk of the one record (absent when there is not exactly one). */
  walk: SpfWalk | undefined;
  authorisations: SpfAuthorisation[];
  /** The host's addresses (those that send mail). */
  addresses: HostAddress[];
  /** Whether the domain's MX is the mail host (then `mx` authorises it). */
  mxIsHost: boolean;
}

/** The record we recommend: `mx` when the MX is the host, its name otherwise, plus addresses DNS does not list. */
export function recommendedSpf(input: Pick<SpfInput, 'hostname' | 'addresses' | 'mxIsHost'>): string {
  const extra = input.addresses.filter((address) => !address.inDns).map((address) => `ip${address.family}:${address.address}`);
  return ['v=spf1', input.mxIsHost ? 'mx' : `a:${input.hostname}`, ...extra, '-all'].join(' ');
}

/** The record with terms inserted before its `all` (or at the end). */
function withTerms(record: string, terms: string[]): string {
  const parts = record.trim().split(/ +/);
  const allIndex = parts.findIndex((part) => /^[+~?-]?all$/i.test(part));
  const redirectIndex = parts.findIndex((part) => /^redirect=/i.test(part));
  const at = allIndex >= 0 ? allIndex : redirectIndex >= 0 ? redirectIndex : parts.length;
  return [...parts.slice(0, at), ...terms, ...parts.slice(at)].join(' ');
}

export function evaluateSpf(input: SpfInput): CheckResult {
  const id = 'spf';
  const { domain, txt, walk } = input;
  if (txt.status === 'temperror') return temperrorResult(id, txt, domain, 'TXT');
  const records = spfRecords(txt);
  const recommended = zoneLine(domain, 'TXT', recommendedSpf(input));
  if (records.length === 0) return { id, status: 'fail', summary: `${domain} publishes no SPF record`, fix: `Publish: ${recommended}` };
  if (records.length > 1) {
    return { id, status: 'fail', summary: `${domain} publishes ${records.length} SPF records (receivers treat that as a permanent error)`,
      fix: `Keep exactly one SPF record, for example: ${recommended}` };
  }
  const record = records[0] ?? '';
  const parsed = parseSpf(record);
  const all = allTerm(parsed);
  const replaceAll = (qualifier: string) => zoneLine(domain, 'TXT', record.replace(/(^| )[+~?-]?all( |$)/i, `$1${qualifier}all$2`));
  if (walk === undefined) throw new Error('evaluateSpf needs the walk of the record');
  if (parsed.errors.length > 0 || walk.errors.length > 0) {
    return { id, status: 'fail', summary: `"${record}" is invalid: ${[...new Set([...parsed.errors, ...walk.errors])].join('; ')}`, fix: `Correct the record, for example: ${recommended}` };
  }
  if (walk.temperrors.length > 0) {
    return { id, status: 'fail', temperror: true, summary: `could not be checked: ${walk.temperrors[0]}`, fix: `Make sure the name servers answer for every name the record includes, then run the check again.` };
  }
  if (walk.lookups > 10) {
    return { id, status: 'fail', summary: `"${record}" needs ${walk.lookups} DNS lookups; receivers stop at 10 (${walk.counted.join(', ')})`,
      fix: `Replace include: terms with the ip4:/ip6: networks they stand for, or remove terms the host does not need; for this host alone: ${recommended}` };
  }
  if (walk.voidLookups > 2) {
    return { id, status: 'fail', summary: `"${record}" has ${walk.voidLookups} lookups that find nothing; receivers stop at 2`,
      fix: `Remove the terms that name domains without records, for example: ${recommended}` };
  }
  if (all !== undefined && (all.qualifier === '+' || all.qualifier === '?')) {
    return { id, status: 'fail', summary: `"${record}" ends in ${all.text}: it ${all.qualifier === '+' ? 'authorises every host on the internet' : 'says nothing about hosts it does not list'}`,
      fix: `Publish: ${replaceAll('-')}` };
  }
  const unauthorised = input.authorisations.filter((entry) => entry.result !== 'pass');
  const failedLookup = unauthorised.find((entry) => entry.result === 'temperror');
  if (failedLookup) {
    return { id, status: 'fail', temperror: true, summary: `could not be checked: ${failedLookup.comment ?? 'temperror'}`, fix: 'Make sure the name servers answer, then run the check again.' };
  }
  if (unauthorised.length > 0) {
    const terms = unauthorised.map((entry) => `${entry.address.includes(':') ? 'ip6' : 'ip4'}:${entry.address}`);
    return { id, status: 'fail', summary: `"${record}" does not authorise ${unauthorised.map((entry) => `${entry.address} (${entry.result})`).join(', ')}`,
      fix: `Publish: ${zoneLine(domain, 'TXT', withTerms(record, terms))}` };
  }
  const notes: string[] = [];
  let fix: string | undefined;
  if (all === undefined && !parsed.terms.some((term) => term.kind === 'modifier' && term.name === 'redirect')) {
    notes.push('it has no "all" term, so other hosts get a neutral result');
    fix = `Publish: ${zoneLine(domain, 'TXT', `${record} -all`)}`;
  }
  if (walk.usesPtr) {
    notes.push('it uses the "ptr" mechanism, which RFC 7208 says not to use and some receivers ignore');
    fix ??= `Replace ptr with ip4:/ip6: terms, for example: ${recommended}`;
  }
  if (walk.macros) notes.push('terms with macros were not followed');
  const addresses = input.authorisations.map((entry) => entry.address).join(', ');
  const summary = sentence([`"${record}" authorises ${addresses || 'no address (none is known)'} with ${walk.lookups} DNS lookup${walk.lookups === 1 ? '' : 's'}`, ...notes]);
  return fix === undefined ? { id, status: 'pass', summary } : { id, status: 'warn', summary, fix };
}
