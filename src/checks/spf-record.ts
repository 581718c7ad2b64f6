// SPF records (RFC 7208): parsing one record, and walking a domain's policy through its includes and redirects to
// count what receivers count — DNS-querying terms (include, a, mx, ptr, exists, redirect; at most 10) and void
// lookups (queries that return nothing; at most 2). mailauth evaluates SPF for one client address and stops at the
// first match, so it cannot tell whether the whole policy stays within the limits; this walk can. Hand-written
// because no maintained npm package parses and counts SPF (mailauth's parser is internal to its evaluator).

import ipaddr from 'ipaddr.js';
import { type DnsAnswer } from '../dns/caching-resolver.ts';
import { joinTxt } from '../dns/txt.ts';

export type Qualifier = '+' | '-' | '~' | '?';

export type SpfTerm =
  | { kind: 'mechanism'; qualifier: Qualifier; name: 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists'; value: string | undefined; text: string }
  | { kind: 'modifier'; name: string; value: string; text: string };

export interface ParsedSpf {
  terms: SpfTerm[];
  errors: string[];
}

const mechanisms = new Set(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
const queryingTerms = new Set(['include', 'a', 'mx', 'ptr', 'exists', 'redirect']);

/** Whether a TXT string is an SPF record (`v=spf1` then a space or the end). */
export function isSpfRecord(text: string): boolean {
  return /^v=spf1(?: |$)/i.test(text);
}

const domainSpec = /^(?:[A-Za-z0-9_%{}.+-]+)$/;

function checkCidr(value: string, family: 4 | 6): boolean {
  const [address, length, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const valid = family === 4 ? ipaddr.IPv4.isValidFourPartDecimal(address) : ipaddr.IPv6.isValid(address);
  if (!valid) return false;
  if (length === undefined) return true;
  return /^[0-9]{1,3}$/.test(length) && Number(length) <= (family === 4 ? 32 : 128);
}

export function parseSpf(record: string): ParsedSpf {
  const [version, ...rest] = record.trim().split(/ +/);
  const errors: string[] = [];
  if (version?.toLowerCase() !== 'v=spf1') errors.push('the record does not start with v=spf1');
  const terms: SpfTerm[] = [];
  for (const text of rest) {
    const modifier = /^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/.exec(text);
    if (modifier) {
      const name = (modifier[1] ?? '').toLowerCase();
      const value = modifier[2] ?? '';
      if ((name === 'redirect' || name === 'exp') && terms.some((term) => term.kind === 'modifier' && term.name === name)) {
        errors.push(`"${name}=" appears more than once`);
      }
      if ((name === 'redirect' || name === 'exp') && !domainSpec.test(value)) errors.push(`"${text}" does not name a domain`);
      terms.push({ kind: 'modifier', name, value, text });
      continue;
    }
    const mechanism = /^([+~?-]?)([A-Za-z0-9]+)(?:([:/])(.*))?$/.exec(text);
    const name = mechanism?.[2]?.toLowerCase() ?? '';
    if (!mechanism || !mechanisms.has(name)) {
      errors.push(`"${text}" is not an SPF mechanism or modifier`);
      continue;
    }
    const qualifier = (mechanism[1] || '+') as Qualifier;
    const value = mechanism[3] === undefined ? undefined : mechanism[3] === '/' ? `/${mechanism[4] ?? ''}` : mechanism[4] ?? '';
    const problem = termProblem(name, value);
    if (problem !== undefined) errors.push(`"${text}": ${problem}`);
    terms.push({ kind: 'mechanism', qualifier, name: name as Extract<SpfTerm, { kind: 'mechanism' }>['name'], value, text });
  }
  return { terms, errors };
}

function termProblem(name: string, value: string | undefined): string | undefined {
  switch (name) {
    case 'all':
      return value === undefined ? undefined : '"all" takes no value';
    case 'include':
    case 'exists':
      return value === undefined || value === '' || !domainSpec.test(value) ? `"${name}:" needs a domain` : undefined;
    case 'ip4':
    case 'ip6':
      return value !== undefined && checkCidr(value, name === 'ip4' ? 4 : 6) ? undefined : `not a valid ${name === 'ip4' ? 'IPv4' : 'IPv6'} address or network`;
    default: {
      if (value === undefined) return undefined;
      const [domain, ...cidrs] = value.split('/');
      if (domain !== '' && !domainSpec.test(domain ?? '')) return 'not a valid domain';
      const lengths = cidrs.filter((part) => part !== '');
      return lengths.every((part) => /^[0-9]{1,3}$/.test(part)) ? undefined : 'not a valid prefix length';
    }
  }
}

/** The effective `all` of a record (its last `all` mechanism), or undefined. */
export function allTerm(parsed: ParsedSpf): Extract<SpfTerm, { kind: 'mechanism' }> | undefined {
  return parsed.terms.filter((term): term is Extract<SpfTerm, { kind: 'mechanism' }> => term.kind === 'mechanism' && term.name === 'all').at(-1);
}

export type SpfLookup = {
  txt(name: string): Promise<DnsAnswer<string[]>>;
  a(name: string): Promise<DnsAnswer<string>>;
  aaaa(name: string): Promise<DnsAnswer<string>>;
  mx(name: string): Promise<DnsAnswer<unknown>>;
};

export interface SpfWalk {
  /** DNS-querying terms, counted through includes and redirects. */
  lookups: number;
  /** Terms whose lookup found nothing. */
  voidLookups: number;
  /** Problems that make receivers return permerror (syntax, missing include target, loops, several records). */
  errors: string[];
  /** Lookups that failed (timeouts, SERVFAIL): the counts are then incomplete. */
  temperrors: string[];
  /** Every counted term, `domain: term`, for the summary of a limit that is exceeded. */
  counted: string[];
  usesPtr: boolean;
  /** Terms with macros cannot be followed before a message arrives. */
  macros: boolean;
}

/** The SPF records of a TXT answer. */
export function spfRecords(answer: DnsAnswer<string[]>): string[] {
  return answer.status === 'ok' ? answer.records.map(joinTxt).filter(isSpfRecord) : [];
}

/**
 * Walks the policy of `domain` (whose record is `record`): every include and redirect is followed, level by level
 * and concurrently within a level, as deep as receivers would go (they stop at 10 lookups; so do we, a little later).
 */
export async function walkSpf(domain: string, record: string, lookup: SpfLookup): Promise<SpfWalk> {
  const walk: SpfWalk = { lookups: 0, voidLookups: 0, errors: [], temperrors: [], counted: [], usesPtr: false, macros: false };
  const visit = async (name: string, text: string, ancestors: ReadonlySet<string>): Promise<void> => {
    const parsed = parseSpf(text);
    for (const error of parsed.errors) walk.errors.push(name === domain ? error : `in the record of ${name}: ${error}`);
    const followed: Array<Promise<void>> = [];
    for (const term of parsed.terms) {
      if (!queryingTerms.has(term.name) || (term.kind === 'modifier' && term.name !== 'redirect')) continue;
      if (term.kind === 'modifier' && term.name === 'redirect' && allTerm(parsed) !== undefined) continue; // ignored when there is an all
      walk.lookups += 1;
      walk.counted.push(`${name}: ${term.text}`);
      if (term.name === 'ptr') walk.usesPtr = true;
      const target = term.kind === 'modifier' ? term.value : term.value === undefined || term.value.startsWith('/') ? name : term.value.split('/')[0] ?? name;
      if (target.includes('%')) {
        walk.macros = true;
        continue;
      }
      if (walk.lookups > 12) break;
      followed.push(followTerm(name, term.name, target, new Set([...ancestors, name.toLowerCase()])));
    }
    await Promise.all(followed);
  };

  const followTerm = async (from: string, term: string, target: string, ancestors: ReadonlySet<string>): Promise<void> => {
    const countVoid = (answer: DnsAnswer<unknown>, what: string) => {
      if (answer.status === 'temperror') walk.temperrors.push(answer.message);
      else if (answer.status !== 'ok') walk.voidLookups += 1;
      return answer.status === 'ok' || answer.status === 'temperror' ? undefined : what;
    };
    if (term === 'include' || term === 'redirect') {
      const answer = await lookup.txt(target);
      if (answer.status === 'temperror') {
        walk.temperrors.push(answer.message);
        return;
      }
      const records = spfRecords(answer);
      if (answer.status !== 'ok') walk.voidLookups += 1;
      if (records.length === 0) {
        walk.errors.push(`${term} target ${target} (from ${from}) has no SPF record`);
        return;
      }
      if (records.length > 1) {
        walk.errors.push(`${target} (included from ${from}) has ${records.length} SPF records`);
        return;
      }
      if (ancestors.has(target.toLowerCase())) {
        walk.errors.push(`${term} of ${target} from ${from} is a loop`);
        return;
      }
      await visit(target, records[0] ?? '', ancestors);
      return;
    }
    if (term === 'a' || term === 'exists') {
      const [a, aaaa] = await Promise.all([lookup.a(target), term === 'a' ? lookup.aaaa(target) : Promise.resolve(undefined)]);
      if (a.status === 'temperror') walk.temperrors.push(a.message);
      else if (aaaa?.status === 'temperror') walk.temperrors.push(aaaa.message);
      else if (a.status !== 'ok' && (aaaa === undefined || aaaa.status !== 'ok')) walk.voidLookups += 1;
      return;
    }
    if (term === 'mx') countVoid(await lookup.mx(target), target);
  };

  await visit(domain, record, new Set());
  return walk;
}
