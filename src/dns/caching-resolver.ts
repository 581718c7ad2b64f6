// Every DNS lookup mailops makes for its checks goes through one DnsResolver per run. (authoritative-servers.ts, beside it, asks
// one particular server — the zone's authoritative ones — for publishing; this one answers as a receiver's resolver.)
//
// - DNS_RESOLVER, when set, is the only server asked (the lab's Knot in tests); otherwise the system's resolvers.
// - Each question (name, type) is asked once per resolver: the first caller starts the query and every later caller,
//   concurrent or not, shares its answer. Checks that need the same record (the hostname's A, the MX set, the
//   domain's TXT) therefore cost one query, and independent questions run concurrently.
// - Every query has a timeout (per try, with a bounded number of tries).
// - An answer is a value, never a throw: `ok` with records, `nxdomain`, `nodata`, or `temperror` (timeout, SERVFAIL,
//   REFUSED, unreachable server…). A check turns a temperror into "could not be checked", never into a pass.
// - mailauth asks through `forMailauth` (its `resolver(name, rrtype)` contract: resolve like dns.promises.resolve,
//   reject with ENOTFOUND / ENODATA / other codes), which shares the same cache.
//
// - A name node:dns (c-ares) refuses to send — any character besides letters, digits, `-`, `_` and `.`, which DNS
//   itself allows and SPF macros can produce (`%{l}` of `a b@example.com`) — is asked with a message of our own
//   (dns-packet, UDP) at the same server, instead of being reported as a failure. So is a question whose answer
//   c-ares refuses as a whole for one malformed record (a TXT record without strings): the others still count.
//
// Hand-written on purpose: node:dns does the wire work; what is ours is the sharing, the timeouts and the
// answer-as-value shape, which no npm resolver offers together.

import dgram from 'node:dgram';
import { getServers, type CaaRecord, type MxRecord } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import type { HostPort } from '../config.ts';
import { formatServer } from './exchange.ts';

export interface RecordsByType {
  A: string;
  AAAA: string;
  MX: MxRecord;
  TXT: string[];
  PTR: string;
  CNAME: string;
  NS: string;
  CAA: CaaRecord;
}

export type RecordType = keyof RecordsByType;

export type DnsAnswer<T> =
  { status: 'ok'; records: T[] } | { status: 'nxdomain' } | { status: 'nodata' } | { status: 'temperror'; code: string; message: string };

/** One query as it happened, for benchmarks and debugging. */
export interface LookupRecord {
  name: string;
  type: string;
  startedAt: number;
  endedAt: number | undefined;
}

export interface DnsResolverOptions {
  /** DNS_RESOLVER; the system resolvers when undefined. */
  server?: HostPort | undefined;
  /** Per-try timeout. */
  timeoutMs?: number;
  tries?: number;
}

const temporaryCodes: Record<string, string> = {
  ETIMEOUT: 'timed out',
  ESERVFAIL: 'SERVFAIL',
  EREFUSED: 'REFUSED',
  ECONNREFUSED: 'connection refused',
  EBADRESP: 'malformed answer',
  ECANCELLED: 'cancelled',
};

/** The name to query for the PTR of an IPv4 or IPv6 address (`4.3.2.1.in-addr.arpa`, nibbles for IPv6). */
export function reverseName(address: string): string {
  return `${reversedAddress(address)}.${isIP(address) === 6 ? 'ip6.arpa' : 'in-addr.arpa'}`;
}

/** The address in the reversed form DNS uses below in-addr.arpa / ip6.arpa and below DNS blocklists. */
export function reversedAddress(address: string): string {
  if (isIP(address) === 4) return address.split('.').reverse().join('.');
  if (isIP(address) !== 6) throw new Error(`not an IP address: ${address}`);
  const [head = '', tail = ''] = address.includes('::') ? address.split('::') : [address, ''];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups
    .map((group) => group.padStart(4, '0'))
    .join('')
    .split('')
    .reverse()
    .join('.');
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** What mailauth takes as `resolver`: `dns.promises.resolve`'s contract. */
export type MailauthResolver = (name: string, rrtype: string) => Promise<string[] | string[][]>;

export class DnsResolver {
  readonly #resolver: Resolver;
  readonly #server: HostPort | undefined;
  readonly #timeoutMs: number;
  readonly #tries: number;
  readonly #answers = new Map<string, Promise<DnsAnswer<unknown>>>();
  readonly lookups: LookupRecord[] = [];
  /** Where the questions go, for messages: `127.0.0.1:53` or `the system resolver`. */
  readonly serverLabel: string;

  constructor(options: DnsResolverOptions = {}) {
    this.#resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
    this.#server = options.server;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#tries = options.tries ?? 2;
    if (options.server) {
      this.#resolver.setServers([formatServer(options.server)]);
      this.serverLabel = formatServer(options.server);
    } else {
      this.serverLabel = 'the system resolver';
    }
  }

  /** The answer for (name, type), asked at most once per resolver. */
  lookup<T extends RecordType>(name: string, type: T): Promise<DnsAnswer<RecordsByType[T]>> {
    return this.#ask(normalizeName(name), type) as Promise<DnsAnswer<RecordsByType[T]>>;
  }

  /** The PTR names of an address. */
  reverse(address: string): Promise<DnsAnswer<string>> {
    return this.lookup(reverseName(address), 'PTR');
  }

  /** mailauth's `resolver(name, rrtype)`: records as dns.promises.resolve returns them, or a rejection with a DNS code. */
  readonly forMailauth: MailauthResolver = async (name, rrtype) => {
    const answer = await this.#ask(normalizeName(name), rrtype.toUpperCase());
    // The shape depends on rrtype (MX gives objects), as with dns.promises.resolve; mailauth's type names the common two.
    if (answer.status === 'ok') return answer.records as string[] | string[][];
    const code = answer.status === 'nxdomain' ? 'ENOTFOUND' : answer.status === 'nodata' ? 'ENODATA' : answer.code;
    const message = answer.status === 'temperror' ? answer.message : `${rrtype} ${name}: ${code}`;
    throw Object.assign(new Error(message), { code });
  };

  #ask(name: string, type: string): Promise<DnsAnswer<unknown>> {
    const key = `${type} ${name}`;
    let answer = this.#answers.get(key);
    if (!answer) {
      answer = this.#query(name, type);
      this.#answers.set(key, answer);
    }
    return answer;
  }

  async #query(name: string, type: string): Promise<DnsAnswer<unknown>> {
    const record: LookupRecord = { name, type, startedAt: performance.now(), endedAt: undefined };
    this.lookups.push(record);
    try {
      const records = (await this.#resolver.resolve(name, type)) as unknown[];
      return records.length === 0 ? { status: 'nodata' } : { status: 'ok', records };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (code === 'EBADNAME' || code === 'EBADRESP') return await this.#queryOurselves(name, type);
      if (code === 'ENOTFOUND') return { status: 'nxdomain' };
      if (code === 'ENODATA') return { status: 'nodata' };
      const reason = temporaryCodes[code] ?? code;
      return { status: 'temperror', code, message: `DNS lookup of ${type} ${name} failed at ${this.serverLabel}: ${reason}` };
    } finally {
      record.endedAt = performance.now();
    }
  }

  /** The server c-ares would ask: DNS_RESOLVER, else the system's first. */
  #serverAddress(): HostPort | undefined {
    if (this.#server) return this.#server;
    const first = getServers()[0];
    if (first === undefined) return undefined;
    const bracketed = /^\[(.+)\](?::([0-9]+))?$/.exec(first);
    if (bracketed) return { host: bracketed[1] ?? '', port: Number(bracketed[2] ?? 53) };
    const [host = '', port] = isIP(first) !== 0 ? [first] : first.split(':');
    return { host, port: Number(port ?? 53) };
  }

  /** One question asked with a message of our own, for names c-ares refuses to put on the wire. */
  async #queryOurselves(name: string, type: string): Promise<DnsAnswer<unknown>> {
    const server = this.#serverAddress();
    const failed = (reason: string): DnsAnswer<unknown> => ({
      status: 'temperror',
      code: 'EBADNAME',
      message: `DNS lookup of ${type} ${name} failed at ${this.serverLabel}: ${reason}`,
    });
    if (server === undefined) return failed('no DNS server is configured');
    const id = Math.floor(Math.random() * 65_536);
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: type as dnsPacket.RecordType, name, class: 'IN' }],
    });
    for (let attempt = 0; attempt < this.#tries; attempt += 1) {
      const response = await exchangeUdp(server, query, id, this.#timeoutMs);
      if (response === undefined) continue;
      const rcode = (response.flags ?? 0) & 0x0f;
      if (rcode === 3) return { status: 'nxdomain' };
      if (rcode !== 0) return failed(rcode === 2 ? 'SERVFAIL' : rcode === 5 ? 'REFUSED' : `response code ${rcode}`);
      const records = (response.answers ?? []).filter((answer) => answer.type === type).map((answer) => recordOf(answer));
      return records.length === 0 ? { status: 'nodata' } : { status: 'ok', records };
    }
    return failed('timed out');
  }
}

/** An answer's data in the shape node:dns gives it. */
function recordOf(answer: dnsPacket.Answer): unknown {
  if (answer.type === 'MX') return { priority: answer.data.preference ?? 0, exchange: answer.data.exchange };
  if (answer.type === 'TXT') return (Array.isArray(answer.data) ? answer.data : [answer.data]).map((part) => part.toString());
  return 'data' in answer ? answer.data : undefined;
}

/** One UDP question and its answer (undefined: no answer in time). */
function exchangeUdp(server: HostPort, message: Buffer, id: number, timeoutMs: number): Promise<dnsPacket.DecodedPacket | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const finish = (answer: dnsPacket.DecodedPacket | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('error', () => finish(undefined));
    socket.on('message', (data) => {
      try {
        const decoded = dnsPacket.decode(data);
        if (decoded.id === id) finish(decoded);
      } catch {
        // not an answer to us: keep waiting
      }
    });
    socket.send(message, server.port, server.host);
  });
}
