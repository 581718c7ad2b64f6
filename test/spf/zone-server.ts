// A small authoritative DNS server on 127.0.0.1 (UDP, dns-packet), serving zone data as the RFC 7208 test suite
// writes it, so that mailops's own resolver (caching-resolver.ts, c-ares underneath) and SPF evaluation run against
// real DNS messages. The semantics follow the suite's reference driver (pyspf's testspf.py):
// - a name's entries are `{TYPE: value}` maps or the bare word TIMEOUT; `SPF` records are also served as TXT unless
//   the name has TXT entries of its own (`TXT: NONE` means "no TXT records");
// - TIMEOUT times out the query types not listed before it; `TYPE: TIMEOUT` times out that type. A timeout is
//   answered with SERVFAIL (a receiver's resolver reports both as a temporary error, and the suite runs faster);
// - a name that is not listed is NXDOMAIN (or SERVFAIL when it starts with `error.`); a CNAME is answered with the
//   records of its target, one level deep.

import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

export type ZoneEntry = 'TIMEOUT' | Record<string, unknown>;
export type ZoneData = Record<string, ZoneEntry[]>;

interface Resource {
  type: string;
  value: unknown;
}

type Entries = Array<Resource | 'TIMEOUT'>;

/** The suite's zone data as served: SPF duplicated as TXT where the name has no TXT of its own, NONE removed. */
function prepare(data: ZoneData): Map<string, Entries> {
  const zone = new Map<string, Entries>();
  for (const [name, raw] of Object.entries(data)) {
    const entries: Entries = [];
    const generated: Resource[] = [];
    let hasTxt = false;
    for (const entry of raw) {
      if (entry === 'TIMEOUT') {
        entries.push('TIMEOUT');
        continue;
      }
      for (const [type, value] of Object.entries(entry)) {
        if (type === 'TXT') hasTxt = true;
        else if (type === 'SPF') generated.push({ type: 'TXT', value });
        if (value !== 'NONE') entries.push({ type, value });
      }
    }
    if (!hasTxt) entries.push(...generated);
    zone.set(name.toLowerCase().replace(/\.$/, ''), entries);
  }
  return zone;
}

const txtData = (value: unknown): Buffer[] => (Array.isArray(value) ? value : [value]).map((part) => Buffer.from(String(part), 'utf8'));

function answer(name: string, type: string, value: unknown): dnsPacket.Answer | undefined {
  const base = { name, ttl: 60, class: 'IN' as const };
  switch (type) {
    case 'A':
    case 'AAAA':
    case 'PTR':
    case 'CNAME':
      return { ...base, type, data: String(value) };
    case 'MX': {
      const [preference, exchange] = value as [number, string];
      return { ...base, type: 'MX', data: { preference, exchange } };
    }
    case 'TXT':
      return { ...base, type: 'TXT', data: txtData(value) };
    default:
      return undefined; // SPF (type 99) is not asked by RFC 7208 implementations
  }
}

type Outcome = { answers: dnsPacket.Answer[]; rcode: number };

function resolve(zone: Map<string, Entries>, name: string, type: string, level = 0): Outcome {
  const entries = zone.get(name);
  if (entries === undefined) return { answers: [], rcode: name.startsWith('error.') ? 2 : 3 };
  const answers: dnsPacket.Answer[] = [];
  let seen = false;
  for (const entry of entries) {
    if (entry === 'TIMEOUT') {
      if (!seen) return { answers: [], rcode: 2 };
      break;
    }
    if (entry.type === type) seen = true;
    if (entry.value === 'TIMEOUT') {
      if (entry.type === type) return { answers: [], rcode: 2 };
      continue;
    }
    if (entry.type === type) {
      const record = answer(name, type, entry.value);
      if (record) answers.push(record);
    } else if (entry.type === 'CNAME' && level === 0) {
      const record = answer(name, 'CNAME', entry.value);
      if (record) answers.push(record);
      const target = resolve(zone, String(entry.value).toLowerCase().replace(/\.$/, ''), type, 1);
      answers.push(...target.answers);
    }
  }
  return { answers, rcode: 0 };
}

export interface ZoneServer {
  port: number;
  /** Replaces the zone data served. */
  serve(data: ZoneData): void;
  close(): Promise<void>;
}

export async function startZoneServer(): Promise<ZoneServer> {
  const socket = dgram.createSocket('udp4');
  let zone = new Map<string, Entries>();
  socket.on('message', (message, client) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const { answers, rcode } = resolve(zone, question.name.toLowerCase().replace(/\.$/, ''), question.type);
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: [question],
      answers,
    });
    socket.send(response, client.port, client.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    serve(data) {
      zone = prepare(data);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
