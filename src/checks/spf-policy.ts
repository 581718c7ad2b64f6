// What a domain's SPF policy says about every address on the internet, not only the mail host's: a green `spf` line
// must mean "the host may send as this domain, and hosts that are not listed may not".
//
// The policy is evaluated with check_host() (spf-evaluate.ts) for the host's addresses and for one address of every
// region of the address space in which the result cannot change. Those regions are bounded by the networks the
// evaluations compare the client with (ip4/ip6 terms, and the A/AAAA answers of a and mx with their prefix lengths),
// so after evaluating a few addresses we know the boundaries, and each boundary gives new addresses to evaluate
// (just inside and just outside it), until no new boundary appears. DNS answers are shared through the resolver's
// cache, so this costs a few queries more than one evaluation, not one per address.
//
// Terms whose result depends on more than the address — macros (a sender chooses %{l}, %{s}, %{h}), `ptr` and %{p}
// (reverse DNS, which the owner of an address controls) — are marked `variable`: another client may get another
// result from them.

import ipaddr from 'ipaddr.js';
import type { DnsResolver } from '../dns/caching-resolver.ts';
import type { CheckResult } from './result.ts';
import { checkHost, type SpfEvaluation } from './spf-evaluate.ts';
import { spfRecords } from './spf-record.ts';
import { evaluateSpf, spfFixCandidates, type SpfInput } from './spf.ts';

export interface SpfOpening {
  /** The term of the top record that lets other addresses in (`(no all)` for the default result of a record without one). */
  term: string;
  /** The whole way to the deciding term: `include:_spf.example.net → +all`. */
  via: string;
  result: 'pass' | 'neutral';
  /** An address outside the host's that gets this result. */
  example: string;
  /** The network the deciding term matches (`0.0.0.0/0` for all). */
  network: string;
  /** The term matches at least a /8 of IPv4 or a /16 of IPv6: practically anyone. */
  everyone: boolean;
  /** The match depends on the sender, HELO or reverse DNS (see the top of this file). */
  variable: boolean;
}

export interface SpfPolicyAnalysis {
  /** The evaluation of each of the host's addresses. */
  host: Array<{ address: string; evaluation: SpfEvaluation }>;
  /** Outside addresses that get pass or neutral, one entry per top-level term. */
  openings: SpfOpening[];
  /** Outside addresses whose evaluation ends in permerror or temperror (the first of each kind). */
  failures: Array<{ address: string; evaluation: SpfEvaluation }>;
  /** The most DNS-querying terms and void lookups any evaluation used, with the terms of the one that used most. */
  lookups: number;
  counted: string[];
  voidLookups: number;
  /** Terms of the policy whose result depends on more than the address. */
  variableTerms: string[];
  usesPtr: boolean;
}

export interface SpfPolicyInput {
  domain: string;
  /** The HELO name for the evaluations (chasquid's hostname). */
  helo: string;
  hostAddresses: string[];
  lookup: Pick<DnsResolver, 'lookup'>['lookup'];
  /** A record to evaluate instead of the published one (to try a fix). */
  record?: string;
}

/** Addresses that stand for the rest of the internet before any boundary is known. */
const seeds = ['192.0.2.1', '2001:db8::1'];
/** Enough for every region of a policy with dozens of networks; a bound so that a huge policy cannot run away. */
const maxEvaluations = 400;

function toBigInt(address: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  return address.toByteArray().reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  const bytes: number[] = [];
  for (let index = 0; index < (family === 4 ? 4 : 16); index += 1) {
    bytes.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** The first and last address of a network, and the addresses just outside it. */
function boundaryAddresses(network: string, length: number): string[] {
  const parsed = ipaddr.parse(network);
  const family = parsed.kind() === 'ipv6' ? 6 : 4;
  const bits = family === 6 ? 128 : 32;
  const size = 1n << BigInt(bits - length);
  const first = (toBigInt(parsed) / size) * size;
  const last = first + size - 1n;
  const max = (1n << BigInt(bits)) - 1n;
  return [first - 1n, first, last, last + 1n].filter((value) => value >= 0n && value <= max).map((value) => fromBigInt(value, family));
}

/** The network the deciding term of an evaluation matches, for the client `address`. */
function matchedNetwork(evaluation: SpfEvaluation, address: string): { network: string; prefix: number } {
  const term = evaluation.match?.term;
  const family = ipaddr.process(address).kind() === 'ipv6' ? 6 : 4;
  const full = family === 6 ? 128 : 32;
  const wildcard = { network: family === 6 ? '::/0' : '0.0.0.0/0', prefix: 0 };
  if (term === undefined || term.name === 'all' || term.name === 'exists') return wildcard; // exists answers alike for every address
  if (term.name === 'ptr') return { network: `${address}/${full}`, prefix: full };
  const prefix = (family === 6 ? term.cidr6 : term.cidr4) ?? full;
  const base = term.network ?? address;
  const parsed = ipaddr.parse(base);
  const size = 1n << BigInt(full - prefix);
  return { network: `${fromBigInt((toBigInt(parsed) / size) * size, family)}/${prefix}`, prefix };
}

export async function analyseSpf(input: SpfPolicyInput): Promise<SpfPolicyAnalysis> {
  const sender = `postmaster@${input.domain}`;
  const evaluate = (ip: string) =>
    checkHost(
      { ip, domain: input.domain, sender, helo: input.helo, ...(input.record !== undefined ? { record: input.record } : {}) },
      input.lookup
    );
  const hostSet = new Set(input.hostAddresses.map((address) => ipaddr.process(address).toString()));
  const evaluated = new Map<string, SpfEvaluation>();
  let queue = [...hostSet, ...seeds];
  while (queue.length > 0 && evaluated.size < maxEvaluations) {
    const batch = [...new Set(queue)].filter((address) => !evaluated.has(address)).slice(0, maxEvaluations - evaluated.size);
    const results = await Promise.all(batch.map(async (address) => [address, await evaluate(address)] as const));
    queue = [];
    for (const [address, evaluation] of results) {
      evaluated.set(address, evaluation);
      for (const { address: network, length } of evaluation.networks) {
        for (const candidate of boundaryAddresses(network, length)) if (!evaluated.has(candidate)) queue.push(candidate);
      }
    }
  }

  const analysis: SpfPolicyAnalysis = {
    host: [],
    openings: [],
    failures: [],
    lookups: 0,
    counted: [],
    voidLookups: 0,
    variableTerms: [],
    usesPtr: false,
  };
  for (const [address, evaluation] of evaluated) {
    if (evaluation.lookups > analysis.lookups) {
      analysis.lookups = evaluation.lookups;
      analysis.counted = evaluation.counted;
    }
    analysis.voidLookups = Math.max(analysis.voidLookups, evaluation.voidLookups);
    if (evaluation.counted.some((entry) => /: [+~?-]?ptr(?::|$)/i.test(entry))) analysis.usesPtr = true;
    const match = evaluation.match;
    if (match?.variable && match.term !== undefined) {
      const text = [...match.path, match.term.text].join(' → ');
      if (!analysis.variableTerms.includes(text)) analysis.variableTerms.push(text);
    }
    if (hostSet.has(address)) {
      analysis.host.push({ address, evaluation });
      continue;
    }
    if (evaluation.result === 'permerror' || evaluation.result === 'temperror') {
      if (!analysis.failures.some((failure) => failure.evaluation.result === evaluation.result))
        analysis.failures.push({ address, evaluation });
      continue;
    }
    if ((evaluation.result !== 'pass' && evaluation.result !== 'neutral') || match === undefined) continue;
    const term = match.path[0] ?? match.term?.text ?? '(no all)';
    const { network, prefix } = matchedNetwork(evaluation, address);
    const everyone = prefix < (network.includes(':') ? 16 : 8);
    const known = analysis.openings.find((opening) => opening.term === term && opening.result === evaluation.result);
    if (known !== undefined) {
      if (everyone && !known.everyone) Object.assign(known, { everyone, network, example: address });
      continue;
    }
    const via = match.term === undefined ? [...match.path, '(no all)'].join(' → ') : [...match.path, match.term.text].join(' → ');
    analysis.openings.push({ term, via, result: evaluation.result, example: address, network, everyone, variable: match.variable });
  }
  analysis.host.sort((a, b) => input.hostAddresses.indexOf(a.address) - input.hostAddresses.indexOf(b.address));
  return analysis;
}

/**
 * The `spf` check of a domain whose TXT answer is `txt`: the judgement of its one record's analysis, with as the fix
 * the first candidate record (spfFixCandidates) that is judged better when evaluated the same way: `pass`, or — when
 * the published record fails — at least not `fail`. Else the first candidate, which at least differs from the
 * record published.
 */
export async function spfResult(input: Omit<SpfInput, 'analysis' | 'fixRecord'>, lookup: SpfPolicyInput['lookup']): Promise<CheckResult> {
  const records = spfRecords(input.txt);
  const hostAddresses = input.addresses.map((address) => address.address);
  const policy = (record?: string) =>
    analyseSpf({ domain: input.domain, helo: input.hostname, hostAddresses, lookup, ...(record !== undefined ? { record } : {}) });
  const analysis = records.length === 1 ? await policy() : undefined;
  const full: SpfInput = { ...input, analysis };
  const first = evaluateSpf(full);
  if (first.status === 'pass' || first.temperror) return first;
  const candidates = spfFixCandidates(full);
  for (const candidate of candidates) {
    const tried = evaluateSpf({ ...input, txt: { status: 'ok', records: [[candidate]] }, analysis: await policy(candidate) });
    if (tried.status === 'pass' || (first.status === 'fail' && tried.status === 'warn'))
      return evaluateSpf({ ...full, fixRecord: candidate });
  }
  return evaluateSpf({ ...full, fixRecord: candidates[0] });
}
