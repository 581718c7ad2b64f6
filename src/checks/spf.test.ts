// The spf check's reading of a policy, for every address and not only the host's, with the zone as a table. Each
// finding of the comparison with pyspf has its case here; the RFC 7208 suite itself runs in test/spf/.

import { describe, expect, it } from 'vitest';
import type { DnsAnswer, RecordsByType, RecordType } from '../dns/caching-resolver.ts';
import { zoneLine } from '../dns/txt.ts';
import type { HostAddress } from './host-addresses.ts';
import { checkHost } from './spf-evaluate.ts';
import { analyseSpf, spfResult } from './spf-policy.ts';
import { parseSpf } from './spf-record.ts';

type Zone = Record<string, Partial<Record<RecordType, unknown[]>> | 'TIMEOUT'>;

const hostname = 'mail.example.com';
const hostAddress = '203.0.113.25';
const addresses: HostAddress[] = [{ address: hostAddress, family: 4, inDns: true, onHost: true }];

/** A zone with example.com's MX and the host's A record, plus `extra`, and `record` as example.com's TXT. */
function zoneWith(record: string | string[] | undefined, extra: Zone = {}): Zone {
  const txt = record === undefined ? [] : (Array.isArray(record) ? record : [record]).map((text) => [text]);
  return {
    'example.com': { MX: [{ priority: 10, exchange: hostname }], ...(txt.length > 0 ? { TXT: txt } : {}) },
    [hostname]: { A: [hostAddress] },
    ...extra,
  };
}

function lookupIn(zone: Zone) {
  return async <T extends RecordType>(name: string, type: T): Promise<DnsAnswer<RecordsByType[T]>> => {
    const entry = zone[name.toLowerCase().replace(/\.$/, '')];
    if (entry === 'TIMEOUT')
      return { status: 'temperror', code: 'ETIMEOUT', message: `DNS lookup of ${type} ${name} failed at 127.0.0.1:53: timed out` };
    if (entry === undefined) return { status: 'nxdomain' };
    const records = entry[type];
    return records === undefined || records.length === 0 ? { status: 'nodata' } : { status: 'ok', records: records as RecordsByType[T][] };
  };
}

async function check(zone: Zone) {
  const lookup = lookupIn(zone);
  return spfResult({ domain: 'example.com', hostname, txt: await lookup('example.com', 'TXT'), addresses, mxIsHost: true }, lookup);
}

const publish = (record: string) => `Publish: ${zoneLine('example.com', 'TXT', record)}`;

describe('spf: a policy that lets anyone send fails, naming the term', () => {
  it.each([
    ['v=spf1 +all mx -all', '+all gives pass to every address (0.0.0.0/0)', 'v=spf1 mx -all'],
    ['v=spf1 mx ?all', '?all gives neutral to every address', 'v=spf1 mx -all'],
    ['v=spf1 mx', 'the record has no "all" term, so gives neutral to every address', 'v=spf1 mx -all'],
    ['v=spf1 mx ip4:0.0.0.0/1 -all', 'ip4:0.0.0.0/1 gives pass to every address (0.0.0.0/1)', 'v=spf1 mx -all'],
  ])('%s', async (record, summary, fixed) => {
    const result = await check(zoneWith(record));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(summary);
    expect(result.fix).toContain(publish(fixed));
  });

  it('fails an include whose target ends in +all, and the fix removes the include', async () => {
    const result = await check(zoneWith('v=spf1 include:_open.example.com -all', { '_open.example.com': { TXT: [['v=spf1 +all']] } }));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('include:_open.example.com (include:_open.example.com → +all) gives pass to every address');
    expect(result.fix).toBe(`Remove include:_open.example.com: ${publish('v=spf1 mx -all')}`);
  });

  it.each([['v=spf1 +all'], ['v=spf1 mx ?all']])('fails a redirect whose target is "%s"', async (target) => {
    const result = await check(zoneWith('v=spf1 redirect=_open.example.com', { '_open.example.com': { TXT: [[target]] } }));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('redirect=_open.example.com (redirect=_open.example.com → ');
    expect(result.fix).toBe(`Remove redirect=_open.example.com: ${publish('v=spf1 mx -all')}`);
  });

  it("warns about an include that authorises another provider's networks, naming it", async () => {
    const result = await check(
      zoneWith('v=spf1 mx include:_spf.provider.test -all', { '_spf.provider.test': { TXT: [['v=spf1 ip4:198.51.100.0/24 -all']] } })
    );
    expect(result.status).toBe('warn');
    expect(result.summary).toContain(
      "include:_spf.provider.test (include:_spf.provider.test → ip4:198.51.100.0/24) also gives pass to addresses that are not the mail host's"
    );
    expect(result.summary).toContain('(198.51.100.0/24)');
    expect(result.fix).toBe(`If those are not your senders, remove include:_spf.provider.test: ${publish('v=spf1 mx -all')}`);
  });

  it('warns about a network wider than the host, naming it', async () => {
    const result = await check(zoneWith('v=spf1 ip4:203.0.113.0/24 -all'));
    expect(result.status).toBe('warn');
    expect(result.summary).toContain(
      "ip4:203.0.113.0/24 also gives pass to addresses that are not the mail host's, such as 203.0.113.0 (203.0.113.0/24)"
    );
    expect(result.fix).toBe(`If those are not your senders, remove ip4:203.0.113.0/24: ${publish('v=spf1 mx -all')}`);
  });

  it('passes a policy that authorises the host and nobody else', async () => {
    const result = await check(zoneWith('v=spf1 mx -all'));
    expect(result).toEqual({ id: 'spf', status: 'pass', summary: `"v=spf1 mx -all" authorises ${hostAddress} with 1 DNS lookup` });
  });
});

describe('spf: lookups and void lookups counted as RFC 7208 counts them', () => {
  it('ignores terms after the first all', async () => {
    const tail = Array.from({ length: 10 }, (_, index) => `a:h${index}.example.com`).join(' ');
    expect(await check(zoneWith(`v=spf1 mx -all ${tail}`))).toMatchObject({
      status: 'pass',
      summary: expect.stringContaining('with 1 DNS lookup'),
    });
    expect(await check(zoneWith('v=spf1 mx -all ip4:192.0.2.1 ?all'))).toMatchObject({ status: 'pass' });
  });

  it('fails more than 10 DNS-querying terms, for the senders that reach them', async () => {
    const terms = Array.from({ length: 10 }, (_, index) => `a:h${index}.example.com`).join(' ');
    const hosts = Object.fromEntries(
      Array.from({ length: 10 }, (_, index) => [`h${index}.example.com`, { A: [`192.0.2.${index + 1}`], AAAA: [`2001:db8::${index + 1}`] }])
    );
    const result = await check(zoneWith(`v=spf1 mx ${terms} -all`, { ...hosts, [hostname]: { A: [hostAddress], AAAA: ['2001:db8::25'] } }));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('for senders that are not the mail host');
    expect(result.summary).toContain('more than 10 DNS lookups (the 11th is a:h9.example.com in the record of example.com)');
  });

  it('fails an mx term whose domain has more than 10 MX hosts, although the host matches first', async () => {
    const mx = Array.from({ length: 11 }, (_, index) => ({ priority: index, exchange: index === 0 ? hostname : `mx${index}.example.com` }));
    const zone = zoneWith('v=spf1 mx -all');
    zone['example.com'] = { ...(zone['example.com'] as object), MX: mx };
    const result = await check(zone);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('example.com has 11 MX records; the "mx" term allows at most 10');
    // The fix is never the record already published.
    expect(result.fix).toBe(`Publish a record without the problem: ${zoneLine('example.com', 'TXT', `v=spf1 a:${hostname} -all`)}`);
  });

  it('counts void lookups per address family: AAAA-only names are void for an IPv4 client', async () => {
    const v6only = { AAAA: ['2001:db8::1'] };
    const zone = zoneWith('v=spf1 a:v1.example.com a:v2.example.com a:v3.example.com mx -all', {
      'v1.example.com': v6only,
      'v2.example.com': v6only,
      'v3.example.com': v6only,
    });
    const result = await check(zone);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(
      `for ${hostAddress}: more than 2 lookups find nothing: A v1.example.com (a:v1.example.com), A v2.example.com (a:v2.example.com), A v3.example.com (a:v3.example.com)`
    );
    const ipv6 = await checkHost(
      { ip: '2001:db8::1', domain: 'example.com', sender: 'postmaster@example.com', helo: hostname },
      lookupIn(zone)
    );
    expect(ipv6).toMatchObject({ result: 'pass', voidLookups: 0 });
  });

  it("counts an MX host without an address of the client's family as a void lookup, as pyspf does", async () => {
    const zone = zoneWith('v=spf1 mx:other.example.com ip4:203.0.113.25 -all', {
      'other.example.com': {
        MX: [
          { priority: 1, exchange: 'a.other.example.com' },
          { priority: 2, exchange: 'b.other.example.com' },
          { priority: 3, exchange: 'c.other.example.com' },
        ],
      },
      'a.other.example.com': { AAAA: ['2001:db8::a'] },
      'b.other.example.com': { AAAA: ['2001:db8::b'] },
      'c.other.example.com': { AAAA: ['2001:db8::c'] },
    });
    const evaluation = await checkHost(
      { ip: hostAddress, domain: 'example.com', sender: 'postmaster@example.com', helo: hostname },
      lookupIn(zone)
    );
    expect(evaluation).toMatchObject({ result: 'permerror', voidLookups: 3 });
  });
});

describe('spf: a record is valid as a whole, even where a term before matches', () => {
  it.each([
    ['v=spf1 mx a/33 -all', '/33 is not an IPv4 prefix length'],
    ['v=spf1 mx a:h.example.com/999 -all', '/999 is not an IPv4 prefix length'],
    ['v=spf1 mx mx/24//129 -all', '//129 is not an IPv6 prefix length'],
    ['v=spf1 mx exists:%{z}.example.com -all', 'is not a valid macro'],
    ['v=spf1 mx exists:%{i -all', 'is not a valid macro'],
    ['v=spf1 mx a: -all', 'an empty domain'],
  ])('%s', async (record, problem) => {
    expect(parseSpf(record).errors.join('; ')).toContain(problem);
    const result = await check(zoneWith(record));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(`"${record}" is invalid`);
    expect(result.fix).toBe(`Correct the record: ${zoneLine('example.com', 'TXT', 'v=spf1 mx -all')}`);
  });
});

describe('spf: what could not be looked up is a temperror, never a verdict', () => {
  it("reports a TXT timeout and an include target's timeout as could-not-check", async () => {
    const timedOut = await check({ 'example.com': 'TIMEOUT', [hostname]: { A: [hostAddress] } });
    expect(timedOut).toMatchObject({ status: 'fail', temperror: true });
    expect(timedOut.summary).toContain('could not be checked');
    const include = await check(zoneWith('v=spf1 include:_spf.slow.test mx -all', { '_spf.slow.test': 'TIMEOUT' }));
    expect(include).toMatchObject({
      status: 'fail',
      temperror: true,
      summary: 'could not be checked (temperror): DNS lookup of TXT _spf.slow.test failed at 127.0.0.1:53: timed out',
    });
  });

  it('finds every region of the address space a policy treats differently', async () => {
    const analysis = await analyseSpf({
      domain: 'example.com',
      helo: hostname,
      hostAddresses: [hostAddress],
      lookup: lookupIn(zoneWith('v=spf1 ip4:203.0.113.0/24 -ip4:10.0.0.0/8 -all')),
    });
    expect(analysis.openings).toMatchObject([{ term: 'ip4:203.0.113.0/24', network: '203.0.113.0/24', everyone: false }]);
  });
});
