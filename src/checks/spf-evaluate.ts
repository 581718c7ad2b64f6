// check_host() of RFC 7208: the SPF result a receiver computes for one client address, sender and HELO name.
//
// Followed to the letter, because `check` vouches for what receivers will do (spf-record.ts says why not mailauth):
// - a record is parsed whole before it is evaluated: a syntax error anywhere is a permerror (§4.6);
// - mechanisms are evaluated in order and the first match decides; terms after it are never evaluated, and a
//   `redirect=` is ignored when the record has an `all` (§5.1, §6.1);
// - at most 10 terms that query DNS (include, a, mx, ptr, exists, redirect) per evaluation, includes and redirects
//   counted, else permerror (§4.6.4); an `mx` with more than 10 MX records is a permerror;
// - at most 2 void lookups (an answer with no records, or NXDOMAIN), else permerror. Like pyspf (the reference
//   implementation the RFC 7208 test suite comes from) we count every query that finds nothing as void — also the
//   address query of an MX host or of a PTR name, and the TXT query of an include or redirect target. A query is per
//   address family: an IPv4 client's `a:name` asks only for A records, so a name with only AAAA records is void;
// - a DNS failure (timeout, SERVFAIL) is a temperror, except in the ptr mechanism and the %{p} macro, where it only
//   means "no match" (§5.5).
// The result says which term decided it and through which includes and redirects, for the analysis of a policy
// (spf-policy.ts) and for messages.

import ipaddr from 'ipaddr.js';
import { type DnsAnswer, type DnsResolver, reverseName } from '../dns/caching-resolver.ts';
import {
  expandMacros,
  hasMacro,
  parseSpf,
  spfRecords,
  truncateDomain,
  type Mechanism,
  type Modifier,
  type Qualifier,
} from './spf-record.ts';

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

export const maxLookups = 10;
export const maxVoidLookups = 2;

/** What decided a result. */
export interface SpfMatch {
  /** The mechanism that matched, or undefined when no term matched and the result is the default neutral. */
  term: Mechanism | undefined;
  /** The domain whose record holds it (or whose record ended without a match). */
  domain: string;
  /** The include and redirect terms that led there, outermost first (empty: the top record). */
  path: string[];
  /**
   * Whether the match depends on more than the client's address and DNS data that is the same for every client:
   * a macro (the sender, the HELO name or the address itself) or reverse DNS (ptr, %{p}). Another client may then get
   * another result from the same term.
   */
  variable: boolean;
}

export interface SpfEvaluation {
  result: SpfResult;
  /** Why, in words: the matching term, or the error. */
  reason: string;
  match?: SpfMatch;
  /** DNS-querying terms evaluated. */
  lookups: number;
  /** The terms that queried, `domain: term`, in order. */
  counted: string[];
  voidLookups: number;
  /** The lookups that found nothing, `type name (term)`. */
  voids: string[];
  /** Every network the client address was compared with: the boundaries where the result may change. */
  networks: Array<{ address: string; length: number }>;
}

export interface CheckHostInput {
  ip: string;
  /** The domain to evaluate (the MAIL FROM's domain, or the HELO name). */
  domain: string;
  /** MAIL FROM; empty: postmaster@<helo> (§2.4). */
  sender: string;
  helo: string;
  /** Evaluate this record for `domain` instead of the one DNS holds (to try a fix before suggesting it). */
  record?: string;
}

type Lookup = Pick<DnsResolver, 'lookup'>['lookup'];

/** Ends the evaluation with a permerror or temperror. */
class Stop extends Error {
  readonly result: 'permerror' | 'temperror';

  constructor(result: 'permerror' | 'temperror', message: string) {
    super(message);
    this.result = result;
  }
}

const results: Record<Qualifier, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };

/** A domain name check_host can look up: labels of 1 to 63 characters, at least two (§4.3). */
export function isValidSpfDomain(name: string): boolean {
  const labels = name.replace(/\.$/, '').split('.');
  return labels.length >= 2 && labels.every((label) => label.length > 0 && label.length <= 63) && name.length <= 255;
}

export async function checkHost(input: CheckHostInput, lookup: Lookup): Promise<SpfEvaluation> {
  const client = ipaddr.process(input.ip);
  const family = client.kind() === 'ipv6' ? 6 : 4;
  const addressType = family === 6 ? 'AAAA' : 'A';
  const sender = senderOf(input);
  const evaluation: SpfEvaluation = { result: 'neutral', reason: '', lookups: 0, counted: [], voidLookups: 0, voids: [], networks: [] };

  const count = (domain: string, term: string) => {
    evaluation.lookups += 1;
    evaluation.counted.push(`${domain}: ${term}`);
    if (evaluation.lookups > maxLookups)
      throw new Stop(
        'permerror',
        `more than ${maxLookups} DNS lookups (the ${ordinal(evaluation.lookups)} is ${term} in the record of ${domain})`
      );
  };
  /** The records of a lookup; nothing found is a void lookup, a failure a temperror (unless `tolerant`). */
  const query = async <T extends 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR'>(name: string, type: T, term: string, tolerant = false) => {
    if (!isValidSpfDomain(name)) {
      // Not a name DNS can hold (an empty or over-long label, after macro expansion): nothing is found.
      return addVoid(type, name, term);
    }
    const answer = (await lookup(name, type)) as DnsAnswer<unknown>;
    if (answer.status === 'temperror') {
      if (tolerant) return [];
      throw new Stop('temperror', answer.message);
    }
    if (answer.status !== 'ok') return addVoid(type, name, term);
    return answer.records as Array<T extends 'MX' ? { exchange: string; priority: number } : T extends 'TXT' ? string[] : string>;
  };
  const addVoid = (type: string, name: string, term: string): [] => {
    evaluation.voidLookups += 1;
    evaluation.voids.push(`${type} ${name || '(empty name)'} (${term})`);
    if (evaluation.voidLookups > maxVoidLookups) {
      throw new Stop('permerror', `more than ${maxVoidLookups} lookups find nothing: ${evaluation.voids.join(', ')}`);
    }
    return [];
  };
  /** Whether the client is in address/length; `address` is of the client's family (ip4/A or ip6/AAAA). */
  const matches = (address: string, length: number | undefined) => {
    const parser = family === 6 ? ipaddr.IPv6 : ipaddr.IPv4;
    if (!parser.isValid(address)) return false;
    const network = parser.parse(address);
    const bits = length ?? (family === 6 ? 128 : 32);
    evaluation.networks.push({ address: network.toString(), length: bits });
    return client.match(network, bits);
  };

  let validatedNames: Promise<string[]> | undefined;
  /** The client's PTR names that resolve back to it (§5.5), at most 10 of them looked at. */
  const validated = (term: string): Promise<string[]> => {
    validatedNames ??= (async () => {
      const names = await query(reverseName(client.toString()), 'PTR', term, true);
      const confirmed: string[] = [];
      for (const name of names.slice(0, 10)) {
        const addresses = await query(name.replace(/\.$/, ''), addressType, term, true);
        if (addresses.some((address) => ipaddr.isValid(address) && ipaddr.process(address).toString() === client.toString()))
          confirmed.push(name.replace(/\.$/, '').toLowerCase());
      }
      return confirmed;
    })();
    return validatedNames;
  };
  const within = (name: string, domain: string) => name === domain.toLowerCase() || name.endsWith(`.${domain.toLowerCase()}`);

  /** Evaluates the record of `domain`; `path` is how we got here. Returns the result and what decided it. */
  const evaluate = async (
    domain: string,
    record: string | undefined,
    path: string[],
    depthVariable: boolean
  ): Promise<{ result: SpfResult; match: SpfMatch }> => {
    let text = record;
    if (text === undefined) {
      const found = await recordOf(domain, path.at(-1) ?? 'the top record');
      if (found === undefined) return { result: 'none', match: { term: undefined, domain, path, variable: depthVariable } };
      text = found;
    }
    if (/[^\x20-\x7e]/.test(text)) throw new Stop('permerror', `the record of ${domain} holds characters that are not printable ASCII`);
    const parsed = parseSpf(text);
    if (parsed.errors.length > 0) throw new Stop('permerror', `the record of ${domain} is invalid: ${parsed.errors.join('; ')}`);
    const macros = {
      sender,
      domain,
      ip: client.toString(),
      helo: input.helo,
      validatedName: async () => {
        const names = await validated('%{p}');
        return names.find((name) => within(name, domain)) ?? names[0] ?? 'unknown';
      },
    };
    const target = async (spec: string | undefined) => {
      if (spec === undefined) return domain;
      try {
        return truncateDomain(await expandMacros(spec, macros));
      } catch (error) {
        throw new Stop('permerror', `"${spec}" in the record of ${domain} cannot be expanded: ${(error as Error).message}`);
      }
    };
    const mechanisms = parsed.terms.filter((term): term is Mechanism => term.kind === 'mechanism');
    const redirect = parsed.terms.find((term): term is Modifier => term.kind === 'modifier' && term.name === 'redirect');
    for (const term of mechanisms) {
      const variable = depthVariable || (term.domainSpec !== undefined && hasMacro(term.domainSpec));
      const matched = (extra = false) => ({ result: results[term.qualifier], match: { term, domain, path, variable: variable || extra } });
      switch (term.name) {
        case 'all':
          return matched();
        case 'ip4':
        case 'ip6':
          if ((term.name === 'ip6') === (family === 6) && matches(term.network ?? '', term.name === 'ip4' ? term.cidr4 : term.cidr6))
            return matched();
          break;
        case 'a': {
          count(domain, term.text);
          const addresses = await query(await target(term.domainSpec), addressType, term.text);
          if (addresses.some((address) => matches(address, family === 6 ? term.cidr6 : term.cidr4))) return matched();
          break;
        }
        case 'mx': {
          count(domain, term.text);
          const name = await target(term.domainSpec);
          const exchanges = await query(name, 'MX', term.text);
          if (exchanges.length > 10)
            throw new Stop('permerror', `${name} has ${exchanges.length} MX records; the "${term.text}" term allows at most 10`);
          const sorted = [...exchanges].sort((a, b) => a.priority - b.priority).map((entry) => entry.exchange.replace(/\.$/, ''));
          let found = false;
          for (const exchange of sorted) {
            const addresses = exchange === '' ? [] : await query(exchange, addressType, term.text);
            if (addresses.some((address) => matches(address, family === 6 ? term.cidr6 : term.cidr4))) found = true;
          }
          if (found) return matched();
          break;
        }
        case 'ptr': {
          count(domain, term.text);
          const name = await target(term.domainSpec);
          if ((await validated(term.text)).some((candidate) => within(candidate, name))) return matched(true);
          break;
        }
        case 'exists': {
          count(domain, term.text);
          // Always an A query, whatever the client's family (§5.7).
          if ((await query(await target(term.domainSpec), 'A', term.text)).length > 0) return matched();
          break;
        }
        case 'include': {
          count(domain, term.text);
          const name = await target(term.domainSpec);
          const inner = await evaluate(name, undefined, [...path, term.text], variable);
          if (inner.result === 'pass')
            return { result: results[term.qualifier], match: { ...inner.match, variable: inner.match.variable || variable } };
          if (inner.result === 'temperror' || inner.result === 'permerror') return inner;
          if (inner.result === 'none') throw new Stop('permerror', `${term.text} (in the record of ${domain}): ${name} has no SPF record`);
          break;
        }
      }
    }
    const all = mechanisms.some((term) => term.name === 'all');
    if (redirect !== undefined && !all) {
      count(domain, redirect.text);
      const name = await target(redirect.value);
      const inner = await evaluate(name, undefined, [...path, redirect.text], depthVariable || hasMacro(redirect.value));
      if (inner.result === 'none') throw new Stop('permerror', `${redirect.text} (in the record of ${domain}): ${name} has no SPF record`);
      return inner;
    }
    return { result: 'neutral', match: { term: undefined, domain, path, variable: depthVariable } };
  };

  /** The one SPF record of `domain`; undefined when there is none; a permerror when there are several. */
  const recordOf = async (domain: string, term: string): Promise<string | undefined> => {
    if (!isValidSpfDomain(domain)) return undefined;
    const answer = await lookup(domain, 'TXT');
    if (answer.status === 'temperror') throw new Stop('temperror', answer.message);
    if (answer.status !== 'ok') {
      if (term !== 'the top record') addVoid('TXT', domain, term);
      return undefined;
    }
    const found = spfRecords(answer);
    if (found.length > 1) throw new Stop('permerror', `${domain} publishes ${found.length} SPF records`);
    return found[0];
  };

  const domain = input.domain.replace(/\.$/, '').toLowerCase();
  if (!isValidSpfDomain(domain))
    return { ...evaluation, result: 'none', reason: `${domain || 'the empty name'} is not a domain name SPF can check` };
  try {
    const { result, match } = await evaluate(domain, input.record, [], false);
    const reason =
      result === 'none'
        ? `${domain} publishes no SPF record`
        : match.term === undefined
          ? `no term of the record of ${match.domain} matches and it has no "all", so the result is neutral`
          : [...match.path, match.term.text].join(' → ');
    return { ...evaluation, result, reason, match };
  } catch (error) {
    if (error instanceof Stop) return { ...evaluation, result: error.result, reason: error.message };
    throw error;
  }
}

/** The sender as check_host uses it: postmaster@<helo> without a MAIL FROM, postmaster@ without a local part (§4.3). */
function senderOf(input: CheckHostInput): string {
  const sender = input.sender === '' ? `postmaster@${input.helo}` : input.sender;
  const at = sender.lastIndexOf('@');
  if (at < 0) return `postmaster@${sender}`;
  return at === 0 ? `postmaster${sender}` : sender;
}

function ordinal(n: number): string {
  return `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
}
