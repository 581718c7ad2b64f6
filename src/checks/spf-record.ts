// SPF records (RFC 7208): choosing a domain's record among its TXT records, parsing one record exactly as the ABNF of
// §4.6.1, §5 and §7.1 says (a record with a syntax error anywhere is a permerror as a whole, §4.6 — even in terms
// after an `all` that will never be reached), and expanding macros (§7).
//
// Hand-written, together with the evaluation beside it (spf-evaluate.ts): mailauth's SPF code, the only maintained
// npm implementation, evaluates term by term and stops at the first match, so a record whose later terms are invalid
// passes for the addresses listed before them, and it does not enforce the `mx` limit of 10 hosts. Its parser is
// internal to its evaluator, so it cannot be used to check a record either. On the RFC 7208 test suite
// (test/spf/rfc7208-suite.test.ts) mailauth 7.1 gets 196 of 203 results right; this implementation all 203.

import ipaddr from 'ipaddr.js';
import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { joinTxt } from '../dns/txt.ts';

export type Qualifier = '+' | '-' | '~' | '?';
export type MechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

export interface Mechanism {
  kind: 'mechanism';
  qualifier: Qualifier;
  name: MechanismName;
  /** The domain-spec (include, exists; optional for a, mx, ptr), unexpanded. */
  domainSpec?: string;
  /** ip4/ip6: the network address. */
  network?: string;
  /** Prefix lengths: of ip4/ip6, or the dual-cidr-length of a and mx (undefined: the whole address). */
  cidr4?: number;
  cidr6?: number;
  /** As written. */
  text: string;
}

export interface Modifier {
  kind: 'modifier';
  /** Lower case. */
  name: string;
  value: string;
  text: string;
}

export type SpfTerm = Mechanism | Modifier;

export interface ParsedSpf {
  terms: SpfTerm[];
  /** Syntax errors: any makes the record a permerror (RFC 7208 §4.6). */
  errors: string[];
}

/** Whether a TXT string is an SPF record: `v=spf1` then a space or the end (RFC 7208 §4.5, case-insensitive). */
export function isSpfRecord(text: string): boolean {
  return /^v=spf1(?: |$)/i.test(text);
}

/** The SPF records of a TXT answer (each record's strings joined without separators, §3.3). */
export function spfRecords(answer: DnsAnswer<string[]>): string[] {
  return answer.status === 'ok' ? answer.records.map(joinTxt).filter(isSpfRecord) : [];
}

// §7.1: macro-string = *( macro-expand / macro-literal ); macro-literal = %x21-24 / %x26-7E.
const macroExpand = /%\{([slodiphcrtv])([0-9]*)(r?)([-.+,/_=]*)\}|%%|%_|%-/iy;
const macroLetters = 'slodiphvcrt';

/** Checks a macro-string; `explanation` allows the letters c, r and t, which only exp= text may use (§7.2). */
function macroStringProblem(value: string, explanation = false): string | undefined {
  let index = 0;
  while (index < value.length) {
    const code = value.charCodeAt(index);
    if (code === 0x25) {
      macroExpand.lastIndex = index;
      const match = macroExpand.exec(value);
      if (!match) return `"${value.slice(index, index + 4)}…" is not a valid macro`;
      const letter = match[1]?.toLowerCase();
      if (letter !== undefined && !explanation && 'crt'.includes(letter)) return `the macro %{${match[1]}} is only allowed in exp= text`;
      index = macroExpand.lastIndex;
      continue;
    }
    if (code < 0x21 || code > 0x7e) return 'a character that is not printable ASCII';
    index += 1;
  }
  return undefined;
}

/**
 * domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand; toplabel has a letter,
 * or a hyphen inside (§7.1) — so `a:192.0.2.1` is an error, not a name.
 */
function domainSpecProblem(spec: string): string | undefined {
  if (spec === '') return 'an empty domain';
  const macro = macroStringProblem(spec);
  if (macro !== undefined) return macro;
  if (/(?:%\{[^}]*\}|%%|%_|%-)$/.test(spec) && !/%[%_-]$/.test(spec)) return undefined; // ends in a macro-expand
  const end = /\.([A-Za-z0-9-]+)\.?$/.exec(spec);
  const top = end?.[1];
  if (top === undefined) return 'not a domain name with at least two labels';
  const toplabel = /^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$/;
  return toplabel.test(top) ? undefined : `"${top}" cannot be the last label of a domain name`;
}

const ip4Cidr = /^(?:0|[1-9][0-9]?)$/;
const ip6Cidr = /^(?:0|[1-9][0-9]?[0-9]?)$/;

/** dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], written after the domain of a and mx. */
function parseDualCidr(text: string): { cidr4?: number; cidr6?: number } | string {
  const match = /^(?:\/([0-9]+))?(?:\/\/([0-9]+))?$/.exec(text);
  if (!match) return `"${text}" is not a prefix length`;
  const result: { cidr4?: number; cidr6?: number } = {};
  if (match[1] !== undefined) {
    if (!ip4Cidr.test(match[1]) || Number(match[1]) > 32) return `/${match[1]} is not an IPv4 prefix length`;
    result.cidr4 = Number(match[1]);
  }
  if (match[2] !== undefined) {
    if (!ip6Cidr.test(match[2]) || Number(match[2]) > 128) return `//${match[2]} is not an IPv6 prefix length`;
    result.cidr6 = Number(match[2]);
  }
  return result;
}

function parseMechanism(text: string): Mechanism | string {
  const match = /^([+~?-]?)([A-Za-z][A-Za-z0-9]*)(.*)$/s.exec(text);
  const name = match?.[2]?.toLowerCase() ?? '';
  if (!match || !['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists'].includes(name)) return 'is not an SPF mechanism or modifier';
  const qualifier = (match[1] || '+') as Qualifier;
  const rest = match[3] ?? '';
  const mechanism: Mechanism = { kind: 'mechanism', qualifier, name: name as MechanismName, text };
  switch (name) {
    case 'all':
      return rest === '' ? mechanism : '"all" takes no value';
    case 'include':
    case 'exists': {
      if (!rest.startsWith(':')) return `"${name}" needs ":" and a domain`;
      const problem = domainSpecProblem(rest.slice(1));
      return problem === undefined ? { ...mechanism, domainSpec: rest.slice(1) } : problem;
    }
    case 'ptr': {
      if (rest === '') return mechanism;
      if (!rest.startsWith(':')) return '"ptr" takes ":" and a domain, nothing else';
      const problem = domainSpecProblem(rest.slice(1));
      return problem === undefined ? { ...mechanism, domainSpec: rest.slice(1) } : problem;
    }
    case 'a':
    case 'mx': {
      // The domain-spec may hold "/" and ":" itself (`a:foo:bar/baz.example.com`): only a trailing dual-cidr-length is one.
      const parts = /^(?::(.*?))?((?:\/[0-9]+)?(?:\/\/[0-9]+)?)$/s.exec(rest);
      if (!parts) return `"${name}" takes ":" and a domain, and prefix lengths`;
      if (parts[1] !== undefined) {
        const problem = domainSpecProblem(parts[1]);
        if (problem !== undefined) return problem;
        mechanism.domainSpec = parts[1];
      }
      if (parts[2] !== undefined && parts[2] !== '') {
        const cidr = parseDualCidr(parts[2]);
        if (typeof cidr === 'string') return cidr;
        Object.assign(mechanism, cidr);
      }
      return mechanism;
    }
    default: {
      // ip4 / ip6
      const family = name === 'ip4' ? 4 : 6;
      if (!rest.startsWith(':')) return `"${name}" needs ":" and an address`;
      const [address = '', length, ...extra] = rest.slice(1).split('/');
      if (extra.length > 0) return 'more than one prefix length';
      const valid = family === 4 ? ipaddr.IPv4.isValidFourPartDecimal(address) : ipaddr.IPv6.isValid(address) && !address.includes('%');
      if (!valid) return `"${address}" is not an ${family === 4 ? 'IPv4' : 'IPv6'} address`;
      mechanism.network = (family === 4 ? ipaddr.IPv4.parse(address) : ipaddr.IPv6.parse(address)).toString();
      if (length !== undefined) {
        const ok = family === 4 ? ip4Cidr.test(length) && Number(length) <= 32 : ip6Cidr.test(length) && Number(length) <= 128;
        if (!ok) return `/${length} is not an ${family === 4 ? 'IPv4' : 'IPv6'} prefix length`;
        if (family === 4) mechanism.cidr4 = Number(length);
        else mechanism.cidr6 = Number(length);
      }
      return mechanism;
    }
  }
}

/** Parses a whole record (which starts with v=spf1); every problem is reported, not only the first. */
export function parseSpf(record: string): ParsedSpf {
  const errors: string[] = [];
  const terms: SpfTerm[] = [];
  // record = version terms *SP; terms = *( 1*SP ( directive / modifier ) ): only spaces separate terms.
  const [version = '', ...rest] = record.split(' ');
  if (version.toLowerCase() !== 'v=spf1') errors.push('the record does not start with v=spf1');
  for (const text of rest) {
    if (text === '') continue;
    // A modifier's name is ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); a mechanism never contains "=" before ":".
    const modifier = /^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/s.exec(text);
    if (modifier) {
      const name = (modifier[1] ?? '').toLowerCase();
      const value = modifier[2] ?? '';
      if ((name === 'redirect' || name === 'exp') && terms.some((term) => term.kind === 'modifier' && term.name === name)) {
        errors.push(`"${name}=" appears more than once`);
      }
      const problem = name === 'redirect' || name === 'exp' ? domainSpecProblem(value) : macroStringProblem(value);
      if (problem !== undefined) errors.push(`"${text}": ${problem}`);
      terms.push({ kind: 'modifier', name, value, text });
      continue;
    }
    const mechanism = parseMechanism(text);
    if (typeof mechanism === 'string') errors.push(mechanism.startsWith('is ') ? `"${text}" ${mechanism}` : `"${text}": ${mechanism}`);
    else terms.push(mechanism);
  }
  return { terms, errors };
}

/** The values macros expand to (§7.2); `p` is looked up only when a macro uses it. */
export interface MacroValues {
  sender: string;
  /** The domain whose record is being evaluated. */
  domain: string;
  ip: string;
  helo: string;
  /** The validated domain name of the client address (`unknown` when there is none). */
  validatedName: () => Promise<string>;
}

/** The dot-separated form of an address for %{i}: IPv4 as is, IPv6 as 32 nibbles (§7.3). */
function addressForMacro(ip: string): string {
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return (parsed as ipaddr.IPv6)
    .toByteArray()
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join('')
    .split('')
    .join('.');
}

/** Whether a domain-spec or modifier value contains a macro (its meaning then depends on the message). */
export function hasMacro(value: string): boolean {
  return /%\{/.test(value);
}

/** Expands a macro-string that passed parseSpf (§7.3, §7.4); URL-escapes the values of upper-case letters. */
export async function expandMacros(value: string, values: MacroValues): Promise<string> {
  let result = '';
  let index = 0;
  while (index < value.length) {
    if (value[index] !== '%') {
      result += value.charAt(index);
      index += 1;
      continue;
    }
    macroExpand.lastIndex = index;
    const match = macroExpand.exec(value);
    if (!match) throw new Error(`invalid macro in ${value}`);
    index = macroExpand.lastIndex;
    if (match[0] === '%%') result += '%';
    else if (match[0] === '%_') result += ' ';
    else if (match[0] === '%-') result += '%20';
    else {
      const letter = match[1] ?? '';
      const lower = letter.toLowerCase();
      const local = values.sender.slice(0, values.sender.lastIndexOf('@'));
      const senderDomain = values.sender.slice(values.sender.lastIndexOf('@') + 1);
      const raw: Record<string, () => Promise<string> | string> = {
        s: () => values.sender,
        l: () => local,
        o: () => senderDomain,
        d: () => values.domain,
        i: () => addressForMacro(values.ip),
        p: () => values.validatedName(),
        v: () => (ipaddr.parse(values.ip).kind() === 'ipv6' ? 'ip6' : 'in-addr'),
        h: () => values.helo,
        c: () => ipaddr.parse(values.ip).toString(),
        r: () => 'unknown',
        t: () => String(Math.floor(Date.now() / 1000)),
      };
      if (!macroLetters.includes(lower)) throw new Error(`unknown macro letter ${letter}`);
      const text = await (raw[lower] ?? (() => ''))();
      const delimiters = match[4] === '' || match[4] === undefined ? '.' : match[4];
      let parts = text.split(new RegExp(`[${delimiters.replace(/[-\\\]^]/g, '\\$&')}]`));
      if (match[3] !== '') parts = parts.reverse();
      if (match[2] !== '' && match[2] !== undefined) {
        const keep = Number(match[2]);
        if (keep === 0) throw new Error('a macro keeps 0 labels');
        parts = parts.slice(-keep);
      }
      const expanded = parts.join('.');
      result +=
        letter === lower
          ? expanded
          : encodeURIComponent(expanded).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
    }
  }
  return result;
}

/** A name to query for an expanded domain-spec: labels dropped from the left until it fits in 253 characters (§7.3). */
export function truncateDomain(name: string): string {
  let result = name.replace(/\.$/, '');
  while (result.length > 253 && result.includes('.')) result = result.slice(result.indexOf('.') + 1);
  return result;
}
