// DNS drift: what a domain's records should be, against what DNS answers.
//
// Two kinds of expectation meet here (ops/dns-diff.ts gathers both):
//   - the accepted state: the answers recorded when a record was first seen, or when someone ran
//     `dns-diff <domain> --accept`. Any change from it is drift, whoever made it. An answer that breaks an invariant
//     is never recorded (not on first sight, not by --accept: the record keeps the answer accepted before, if any),
//     because what contradicts the mail host cannot become what is expected — else putting the right record back
//     would read as drift.
//   - invariants derived from the mail host, which hold whatever was accepted: the MX names chasquid's hostname, the
//     hostname's addresses are the host's, SPF authorises them, each active DKIM selector publishes the host's key,
//     DMARC is published (with the accepted policy), each address's PTR names the hostname.
// A record drifts when its answer differs from the accepted one, or breaks an invariant; it is reported once with what
// was expected (the accepted values, else what the invariant asks for) and what DNS answers. A record whose lookup
// failed is not judged: not seeing it is not seeing it change.
//
// Values are normalised so that equal answers compare equal: MX as `priority exchange.`, addresses in their canonical
// form, TXT as the joined value of each record, PTR as `name.`; sorted, without duplicates.

import type { MxRecord } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { DnsAnswer } from './caching-resolver.ts';
import { joinTxt } from './txt.ts';

export const driftRecordTypes = ['MX', 'A', 'AAAA', 'TXT', 'PTR'] as const;
export type DriftRecordType = (typeof driftRecordTypes)[number];

/** One record set as DNS answered it: `values` undefined when the lookup failed (`error` says why). */
export interface ObservedRecord {
  name: string;
  type: DriftRecordType;
  values: string[] | undefined;
  error?: string;
}

/** An invariant, already evaluated on the observed answer. */
export interface Invariant {
  name: string;
  type: DriftRecordType;
  holds: boolean;
  /** What would satisfy it, as record values (or, where no single value does, a phrase). */
  expected: string[];
  /** Why it does not hold, for people. */
  reason: string;
}

export interface DriftEntry {
  name: string;
  type: DriftRecordType;
  expected: string[];
  actual: string[];
  /** Why this is drift, in one sentence. */
  reason: string;
  /**
   * The answer contradicts the mail host (breaks an invariant): only fixing the record ends this drift; accepting it
   * cannot. False when the record only differs from the accepted state.
   */
  contradiction: boolean;
}

/** The snapshot key of a record set. */
export function recordKey(name: string, type: string): string {
  return `${name} ${type}`;
}

function normalized(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

export function sameValues(a: readonly string[], b: readonly string[]): boolean {
  const left = normalized(a);
  const right = normalized(b);
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

export function mxValue(record: MxRecord): string {
  return `${record.priority} ${record.exchange.toLowerCase().replace(/\.$/, '')}.`;
}

/** The exchange of an `mxValue`, without the trailing dot. */
export function mxExchange(value: string): string {
  return (value.split(' ')[1] ?? '').replace(/\.$/, '');
}

/** An answer as normalised values: [] for NXDOMAIN and NODATA; undefined (with the error) for a failed lookup. */
export function observe<T>(
  name: string,
  type: DriftRecordType,
  answer: DnsAnswer<T>,
  value: (record: T) => string,
  keep: (value: string) => boolean = () => true
): ObservedRecord {
  if (answer.status === 'temperror') return { name, type, values: undefined, error: answer.message };
  const values = answer.status === 'ok' ? answer.records.map(value).filter(keep) : [];
  return { name, type, values: normalized(values) };
}

export const addressValue = (address: string): string => (ipaddr.isValid(address) ? ipaddr.process(address).toString() : address);
export const txtValue = (strings: string[]): string => joinTxt(strings);
export const nameValue = (name: string): string => `${name.toLowerCase().replace(/\.$/, '')}.`;

/**
 * The drift of a domain: every observed record whose answer differs from the accepted one or breaks one of its
 * invariants. Records without an accepted answer are judged by their invariants alone.
 */
export function findDrift(
  observed: readonly ObservedRecord[],
  accepted: Readonly<Record<string, readonly string[]>>,
  invariants: readonly Invariant[]
): DriftEntry[] {
  const drift: DriftEntry[] = [];
  for (const record of observed) {
    if (record.values === undefined) continue;
    const acceptedValues = accepted[recordKey(record.name, record.type)];
    const broken = invariants.filter((invariant) => invariant.name === record.name && invariant.type === record.type && !invariant.holds);
    const changed = acceptedValues !== undefined && !sameValues(acceptedValues, record.values);
    if (!changed && broken.length === 0) continue;
    const reasons = [...(changed ? ['differs from the accepted state'] : []), ...broken.map((invariant) => invariant.reason)];
    drift.push({
      name: record.name,
      type: record.type,
      expected: changed ? normalized(acceptedValues) : normalized(broken.flatMap((invariant) => invariant.expected)),
      actual: record.values,
      reason: reasons.join('; '),
      contradiction: broken.length > 0,
    });
  }
  return drift;
}

/** Whether an observed answer breaks one of the invariants of its record. */
function contradicts(record: ObservedRecord, invariants: readonly Invariant[]): boolean {
  return invariants.some((invariant) => invariant.name === record.name && invariant.type === record.type && !invariant.holds);
}

/**
 * The accepted state after a run: the recorded answers, plus what is seen for the first time — unless that
 * contradicts the mail host (such a record is judged by its invariants until it is fixed, and accepted then).
 */
export function withFirstSeen(
  accepted: Readonly<Record<string, string[]>>,
  observed: readonly ObservedRecord[],
  invariants: readonly Invariant[]
): { records: Record<string, string[]>; added: number } {
  const records = { ...accepted };
  let added = 0;
  for (const record of observed) {
    const key = recordKey(record.name, record.type);
    if (record.values === undefined || key in records || contradicts(record, invariants)) continue;
    records[key] = record.values;
    added += 1;
  }
  return { records, added };
}

/**
 * The answers as an accepted state (`--accept`): every record that could be looked up and agrees with the mail host.
 * A record whose answer contradicts the host keeps the answer accepted before (if any); `refused` lists them.
 */
export function acceptedState(
  observed: readonly ObservedRecord[],
  invariants: readonly Invariant[],
  previous: Readonly<Record<string, readonly string[]>> = {}
): { records: Record<string, string[]>; refused: ObservedRecord[] } {
  const records: Record<string, string[]> = {};
  const refused: ObservedRecord[] = [];
  for (const record of observed) {
    if (record.values === undefined) continue;
    const key = recordKey(record.name, record.type);
    if (contradicts(record, invariants)) {
      refused.push(record);
      const before = previous[key];
      if (before !== undefined) records[key] = [...before];
      continue;
    }
    records[key] = record.values;
  }
  return { records, refused };
}

/** Values for people: TXT values quoted, `(none)` for an empty answer. */
export function presentValues(type: string, values: readonly string[]): string {
  if (values.length === 0) return '(none)';
  return values.map((value) => (type === 'TXT' ? JSON.stringify(value) : value)).join(', ');
}

/**
 * What to do about a domain's drift, as a terminal hint (front-hints.ts rewrites it for Discord). `--accept` is offered
 * only for records that merely differ from the accepted state, never for contradictions (accepting cannot fix them),
 * and never right after an --accept, whose leftovers are all contradictions.
 */
export function driftAdvice(domain: string, drift: readonly DriftEntry[]): string {
  const contradictions = drift.filter((entry) => entry.contradiction);
  const others = drift.length - contradictions.length;
  const plural = (count: number, one: string, many: string) => (count === 1 ? one : many);
  const names = contradictions.map((entry) => `${entry.name} ${entry.type}`).join(', ');
  const fix =
    contradictions.length === 0
      ? []
      : [
          `${names} ${plural(contradictions.length, 'contradicts', 'contradict')} the mail host: publish what is expected (accepting cannot change that).`,
        ];
  if (others === 0) return fix.join(' ');
  const accept =
    contradictions.length === 0
      ? `Fix the ${plural(others, 'record', 'records')}, or accept the current answers: mailops dns-diff ${domain} --accept`
      : `The other ${plural(others, 'record only differs', `${others} records only differ`)} from the accepted state: put back the expected ${plural(others, 'answer', 'answers')}, or accept the current ${plural(others, 'one', 'ones')}: mailops dns-diff ${domain} --accept`;
  return [...fix, accept].join(' ');
}

/** What --accept recorded: the current answers, except those that contradict the mail host (still drift). */
export function acceptedNowSentence(drift: readonly DriftEntry[]): string {
  const refused = drift.filter((entry) => entry.contradiction).length;
  if (refused === 0) return 'The current answers are now the accepted state.';
  return refused === 1
    ? 'The current answers are now the accepted state, except the record below: it contradicts the mail host and was not accepted.'
    : `The current answers are now the accepted state, except the ${refused} records below: they contradict the mail host and were not accepted.`;
}

/** A short identity of one drifting record's state, so that the same drift is recognised on the next run. */
export function driftFingerprint(entry: Pick<DriftEntry, 'expected' | 'actual'>): string {
  return JSON.stringify([normalized(entry.expected), normalized(entry.actual)]);
}
