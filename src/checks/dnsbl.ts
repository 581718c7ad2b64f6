// `dnsbl`: every address of the host against the IP blocklists (DNSBL_IP_ZONES) and the domain against the domain
// blocklists (DNSBL_DOMAIN_ZONES). A list answers a query for <reversed address>.<zone> (or <domain>.<zone>) with an
// address in 127.0.0.0/8 when it lists it, and NXDOMAIN when it does not. Some answers are not listings:
// 127.255.255.x means the list refused the query (Spamhaus: 252 bad query, 254 public resolver, 255 too many
// queries), as do 127.0.1.255 on Spamhaus DBL and 127.0.0.1 on SURBL. A refused or failed query is a warning — we
// could not tell — and never a pass or a listing.
// Hand-written: a DNSBL query is one A lookup; what matters is reading the answers right and asking our resolver.

import { type DnsAnswer, reversedAddress } from '../dns/caching-resolver.ts';
import { sentence, temperrorOf, type CheckResult } from './result.ts';

export interface DnsblQuery {
  /** The address or domain asked about. */
  subject: string;
  zone: string;
  answer: DnsAnswer<string>;
}

export type DnsblVerdict = 'clean' | 'listed' | 'refused' | 'unexpected' | 'temperror';

/** Where to ask for removal, for the lists people use most. */
const removalPages: Record<string, string> = {
  'zen.spamhaus.org': 'https://check.spamhaus.org/',
  'dbl.spamhaus.org': 'https://check.spamhaus.org/',
  'bl.spamcop.net': 'https://www.spamcop.net/bl.shtml',
  'psbl.surriel.com': 'https://psbl.org/',
  'multi.surbl.org': 'https://surbl.org/surbl-analysis',
};

/** The name to query. */
export function dnsblQueryName(subject: string, zone: string): string {
  return /^[0-9.]+$/.test(subject) || subject.includes(':') ? `${reversedAddress(subject)}.${zone}` : `${subject}.${zone}`;
}

export function dnsblVerdict(zone: string, answer: DnsAnswer<string>): DnsblVerdict {
  if (answer.status === 'nxdomain' || answer.status === 'nodata') return 'clean';
  if (answer.status === 'temperror') return 'temperror';
  const codes = answer.records;
  if (codes.some((code) => code.startsWith('127.255.255.'))) return 'refused';
  if (zone.endsWith('dbl.spamhaus.org') && codes.includes('127.0.1.255')) return 'refused';
  if (zone.endsWith('surbl.org') && codes.includes('127.0.0.1')) return 'refused';
  if (codes.every((code) => code.startsWith('127.') && code !== '127.0.0.1')) return 'listed';
  return 'unexpected';
}

export interface DnsblInput {
  queries: DnsblQuery[];
  /** How many addresses and domains were asked about, for the summary. */
  subjects: string[];
  zones: { ip: string[]; domain: string[] };
}

export function evaluateDnsbl({ queries, subjects, zones }: DnsblInput): CheckResult {
  const id = 'dnsbl';
  if (zones.ip.length + zones.domain.length === 0)
    return { id, status: 'skip', summary: 'no blocklists configured', hint: 'Set DNSBL_IP_ZONES and DNSBL_DOMAIN_ZONES.' };
  const judged = queries.map((query) => ({ ...query, verdict: dnsblVerdict(query.zone, query.answer) }));
  const listed = judged.filter((query) => query.verdict === 'listed');
  const refused = judged.filter((query) => query.verdict === 'refused');
  const failed = judged.filter((query) => query.verdict === 'temperror' || query.verdict === 'unexpected');
  const lists = [...zones.ip, ...zones.domain].length;
  if (listed.length > 0) {
    return {
      id,
      status: 'fail',
      summary: sentence([
        listed
          .map(
            (query) =>
              `${query.subject} is listed on ${query.zone} (${query.answer.status === 'ok' ? query.answer.records.join(', ') : ''})`
          )
          .join('; '),
        refused.length > 0 ? `${refused.map((query) => query.zone).join(', ')} refused the query` : '',
      ]),
      fix: listed
        .map(
          (query) =>
            `Find and stop what sent spam from ${query.subject}, then request removal from ${query.zone}${removalPages[query.zone] ? ` at ${removalPages[query.zone]}` : ''}`
        )
        .join('; '),
    };
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  if (refused.length > 0) {
    const zonesRefusing = [...new Set(refused.map((query) => query.zone))];
    problems.push(
      `${zonesRefusing.join(', ')} refused the quer${refused.length === 1 ? 'y' : 'ies'} (answer ${refused.map((query) => (query.answer.status === 'ok' ? query.answer.records.join(',') : '')).join(' ')})`
    );
    fixes.push(
      "Query the blocklists through a resolver of your own, not a public one (set DNS_RESOLVER), or use the list's query service for registered users"
    );
  }
  const unanswered = failed.filter((query) => query.answer.status === 'temperror');
  if (unanswered.length > 0) {
    const first = unanswered[0]?.answer;
    problems.push(
      `could not query ${[...new Set(unanswered.map((query) => query.zone))].join(', ')} (${first?.status === 'temperror' ? first.message : ''}${unanswered.length > 1 ? ', and others alike' : ''})`
    );
  }
  const unexpected = failed.filter((query) => query.answer.status === 'ok');
  if (unexpected.length > 0) {
    problems.push(
      unexpected
        .map(
          (query) =>
            `${query.zone} gave an answer that is not a listing code (${query.answer.status === 'ok' ? query.answer.records.join(', ') : ''})`
        )
        .join('; ')
    );
  }
  if (failed.length > 0) {
    fixes.push('Run the check again; if it persists, make sure DNS_RESOLVER answers for the blocklist zones without rewriting NXDOMAIN');
  }
  // A list answered when every question put to it was answered: only those can vouch for "not listed".
  const answered = lists - new Set([...refused, ...failed].map((query) => query.zone)).size;
  if (answered === 0 && refused.length === 0 && unexpected.length === 0) {
    // Nothing answered at all: nothing is known, so no count of lists (not "not listed on 0 of 5 lists").
    return temperrorOf(id, `no blocklist answered: ${problems.join('; ')}`, fixes.join('; '));
  }
  const clean = answered === 0 ? '' : `${subjects.join(', ')} not listed on ${answered} of ${lists} list${lists === 1 ? '' : 's'}`;
  if (problems.length > 0)
    return {
      id,
      status: 'warn',
      summary: sentence([answered === 0 ? 'no blocklist gave a usable answer' : clean, ...problems]),
      fix: fixes.join('; '),
    };
  return { id, status: 'pass', summary: `${clean} (${[...zones.ip, ...zones.domain].join(', ')})` };
}
