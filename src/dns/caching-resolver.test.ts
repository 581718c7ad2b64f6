import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResolver, reverseName } from './caching-resolver.ts';
import { zoneLine } from './txt.ts';

// A small authoritative server on loopback: answers TXT for x.test, NXDOMAIN for other names, and counts questions.
let server: dgram.Socket;
let silent: dgram.Socket;
const asked: string[] = [];

beforeAll(async () => {
  server = dgram.createSocket('udp4');
  server.on('message', (message, client) => {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    if (!question) return;
    asked.push(`${question.type} ${question.name}`);
    const known = question.name === 'x.test' && question.type === 'TXT';
    const answer = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3),
      questions: [question],
      answers: known ? [{ type: 'TXT', name: 'x.test', ttl: 60, data: ['v=spf1 ', '-all'] }] : [],
    });
    // Answered 20 ms later, as by a server across a network: questions asked at the same time overlap in flight.
    setTimeout(() => server.send(answer, client.port, client.address), 20);
  });
  silent = dgram.createSocket('udp4');
  await Promise.all([server, silent].map((socket) => new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))));
});

afterAll(() => {
  server.close();
  silent.close();
});

describe('DnsResolver', () => {
  it('asks each question once, however many callers ask it at the same time', async () => {
    const resolver = new DnsResolver({ server: { host: '127.0.0.1', port: server.address().port } });
    const answers = await Promise.all([
      resolver.lookup('x.test', 'TXT'),
      resolver.lookup('X.TEST.', 'TXT'),
      resolver.forMailauth('x.test', 'TXT'),
    ]);
    expect(answers[0]).toEqual({ status: 'ok', records: [['v=spf1 ', '-all']] });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual([['v=spf1 ', '-all']]);
    expect(asked.filter((question) => question === 'TXT x.test')).toHaveLength(1);
  });

  it('answers NXDOMAIN as a value, and to mailauth as ENOTFOUND', async () => {
    const resolver = new DnsResolver({ server: { host: '127.0.0.1', port: server.address().port } });
    expect(await resolver.lookup('nothing.test', 'A')).toEqual({ status: 'nxdomain' });
    await expect(resolver.forMailauth('nothing.test', 'A')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('reports a server that does not answer as a temperror, within its timeout', async () => {
    const resolver = new DnsResolver({ server: { host: '127.0.0.1', port: silent.address().port }, timeoutMs: 100, tries: 1 });
    const started = Date.now();
    const answer = await resolver.lookup('x.test', 'TXT');
    expect(answer).toMatchObject({ status: 'temperror', code: 'ETIMEOUT' });
    expect(answer.status === 'temperror' && answer.message).toContain(`TXT x.test failed at 127.0.0.1:${silent.address().port}: timed out`);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('reverse names and records', () => {
  it('builds the PTR names of IPv4 and IPv6 addresses', () => {
    expect(reverseName('192.0.2.1')).toBe('1.2.0.192.in-addr.arpa');
    expect(reverseName('2001:db8::1')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  });

  it('writes zone-file lines, long TXT values split into strings of at most 255 bytes', () => {
    expect(zoneLine('s._domainkey.example.com.', 'TXT', 'v=spf1 -all')).toBe('s._domainkey.example.com. 3600 IN TXT "v=spf1 -all"');
    expect(zoneLine('example.com', 'TXT', `v=DKIM1; k=rsa; p=${'A'.repeat(392)}`)).toMatch(
      /^example\.com\. 3600 IN TXT "v=DKIM1; k=rsa; p=A{237}" "A{155}"$/
    );
    expect(zoneLine('example.com', 'MX', '10 mail.example.com.')).toBe('example.com. 3600 IN MX 10 mail.example.com.');
  });
});
