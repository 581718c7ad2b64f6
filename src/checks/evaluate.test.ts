// The pure evaluations of the checks, with the cases the lab cannot produce (public addresses, NXDOMAIN of a served
// domain, TXT strings over 255 bytes, hosts without dkimsign, ed25519 keys…).

import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dkimPublicKey, dkimRecordValue } from '../chasquid/dkim-key.ts';
import type { DkimSetup } from '../chasquid/dkim-signing-keys.ts';
import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { evaluateDkim } from './dkim.ts';
import { evaluateDmarc, isDmarcRecord, parseDmarc } from './dmarc.ts';
import { dnsblQueryName, dnsblVerdict, evaluateDnsbl } from './dnsbl.ts';
import { evaluateE2e } from './e2e.ts';
import { mailHostAddresses, parseInterfaceAddresses } from './host-addresses.ts';
import { evaluateMtaSts, evaluateTlsRpt, mxMatches } from './mta-sts.ts';
import { evaluateMxAddress } from './mx-address.ts';
import { evaluateMx } from './mx.ts';
import { evaluatePtr } from './ptr.ts';
import { providerRequirements } from './requirements.ts';
import { worstStatus, type CheckResult } from './result.ts';
import { evaluateTls } from './tls.ts';

const ok = <T>(...records: T[]): DnsAnswer<T> => ({ status: 'ok', records });
const nodata = { status: 'nodata' } as const;
const nxdomain = { status: 'nxdomain' } as const;
const timeout = { status: 'temperror', code: 'ETIMEOUT', message: 'DNS lookup of X failed at 127.0.0.1:53: timed out' } as const;
const hostname = 'mail.example.com';

describe('mx', () => {
  it('fails for a domain that does not exist, and reports a timeout as could-not-check', () => {
    expect(evaluateMx({ domain: 'example.com', hostname, mx: nxdomain })).toMatchObject({
      status: 'fail',
      summary: 'example.com does not exist in DNS (NXDOMAIN)',
    });
    expect(evaluateMx({ domain: 'example.com', hostname, mx: timeout })).toMatchObject({ status: 'fail', temperror: true });
  });

  it('warns about another MX host it cannot check', () => {
    const result = evaluateMx({
      domain: 'example.com',
      hostname,
      mx: ok({ priority: 10, exchange: hostname }, { priority: 20, exchange: 'backup.example.net' }),
    });
    expect(result).toMatchObject({ status: 'warn' });
    expect(result.summary).toContain('backup.example.net is not the mail host');
  });
});

describe('host addresses', () => {
  const interfaces = parseInterfaceAddresses(
    [
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      '2: eth0    inet 203.0.113.5/24 brd 203.0.113.255 scope global eth0\\       valid_lft forever',
      '2: eth0    inet6 2a01:4f8::5/64 scope global \\       valid_lft forever',
      '2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever',
    ].join('\n')
  );

  it('reads the interfaces of `ip -o addr show`', () => {
    expect(interfaces.map((entry) => `${entry.address} ${entry.scope}`)).toEqual([
      '127.0.0.1 host',
      '203.0.113.5 global',
      '2a01:4f8::5 global',
      'fe80::1 link',
    ]);
  });

  it('adds a public interface address DNS does not list, and marks a DNS address elsewhere', () => {
    const addresses = mailHostAddresses(['198.51.100.9'], interfaces);
    // 198.51.100.9 is documentation space (not public) and not on the host: certainly not the host's.
    expect(addresses).toEqual([
      { address: '198.51.100.9', family: 4, inDns: true, onHost: false },
      { address: '2a01:4f8::5', family: 6, inDns: false, onHost: true },
    ]);
  });

  it('cannot cross-check a public DNS address behind NAT', () => {
    const natInterfaces = parseInterfaceAddresses('2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0');
    expect(mailHostAddresses(['8.8.8.8'], natInterfaces)).toEqual([{ address: '8.8.8.8', family: 4, inDns: true, onHost: undefined }]);
  });

  it('mx-address warns when the host has an address DNS does not list', () => {
    const addresses = mailHostAddresses(['203.0.113.5'], interfaces);
    const result = evaluateMxAddress({ hostname, a: ok('203.0.113.5'), aaaa: nodata, addresses, interfaces });
    expect(result).toMatchObject({
      status: 'warn',
      fix: 'Publish mail.example.com. 3600 IN AAAA 2a01:4f8::5 (receivers check the address mail comes from)',
    });
  });

  it("mx-address suggests the host's public address in place of a stale one", () => {
    const addresses = mailHostAddresses(['203.0.113.77', '2a01:4f8::5'], interfaces);
    const result = evaluateMxAddress({ hostname, a: ok('203.0.113.77'), aaaa: ok('2a01:4f8::5'), addresses, interfaces });
    expect(result.status).toBe('fail');
    expect(result.fix).toBe('In DNS, replace mail.example.com. 3600 IN A 203.0.113.77 with mail.example.com. 3600 IN A 203.0.113.5');
  });
});

describe('ptr', () => {
  const address = { address: '203.0.113.5', family: 4 as const, inDns: false, onHost: true };

  it('fails when the PTR names the hostname but the hostname does not resolve back', () => {
    const result = evaluatePtr({ hostname, addresses: [{ address, ptr: ok(hostname) }], forward: { 4: ok('203.0.113.9'), 6: nodata } });
    expect(result).toMatchObject({
      status: 'fail',
      summary: `PTR of 203.0.113.5 is ${hostname}, but ${hostname} does not resolve to 203.0.113.5`,
      fix: `Publish ${hostname}. 3600 IN A 203.0.113.5`,
    });
  });

  it('warns about several PTR records, and fails without any address', () => {
    expect(
      evaluatePtr({
        hostname,
        addresses: [{ address, ptr: ok(hostname, 'other.example.com') }],
        forward: { 4: ok('203.0.113.5'), 6: nodata },
      }).status
    ).toBe('warn');
    expect(evaluatePtr({ hostname, addresses: [], forward: { 4: nodata, 6: nodata } }).status).toBe('fail');
  });

  it('checks IPv6 addresses with their ip6.arpa name', () => {
    const v6 = { address: '2a01:4f8::5', family: 6 as const, inDns: true, onHost: true };
    const result = evaluatePtr({ hostname, addresses: [{ address: v6, ptr: nodata }], forward: { 4: nodata, 6: ok('2a01:4f8::5') } });
    expect(result.fix).toContain('5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.f.4.0.1.0.a.2.ip6.arpa. 3600 IN PTR mail.example.com.');
  });
});

describe('dkim', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ed = generateKeyPairSync('ed25519').privateKey;
  const rsaKey = dkimPublicKey(rsa);
  const edKey = dkimPublicKey(ed);
  const setup = (keys: DkimSetup['keys'], extra: Partial<DkimSetup> = {}): DkimSetup => ({
    layout: 'builtin',
    keys,
    hookProblems: [],
    ...extra,
  });
  const split = (value: string) => value.match(/.{1,255}/g) ?? [];

  it('passes a published key split into strings, and fails one string over 255 bytes', () => {
    const keys = [{ selector: 's', file: '/k', publicKey: rsaKey }];
    expect(evaluateDkim({ domain: 'example.com', setup: setup(keys), records: { s: ok(split(dkimRecordValue(rsaKey))) } }).status).toBe(
      'pass'
    );
    const long = evaluateDkim({ domain: 'example.com', setup: setup(keys), records: { s: ok([dkimRecordValue(rsaKey)]) } });
    expect(long.status).toBe('fail');
    expect(long.summary).toContain('(at most 255)');
  });

  it('fails when the hook layout has no dkimsign, or a key cannot be read, or the key is revoked', () => {
    expect(
      evaluateDkim({
        domain: 'example.com',
        setup: setup([{ selector: 's', file: '/k', publicKey: rsaKey }], {
          layout: 'hook',
          hookProblems: ['dkimsign is not installed on the mail host: apt install python3-dkim (dkimpy)'],
        }),
        records: {},
      })
    ).toMatchObject({ status: 'fail', fix: 'dkimsign is not installed on the mail host: apt install python3-dkim (dkimpy)' });
    expect(
      evaluateDkim({ domain: 'example.com', setup: setup([{ selector: 's', file: '/k', problem: '/k cannot be read' }]), records: {} })
        .status
    ).toBe('fail');
    expect(
      evaluateDkim({
        domain: 'example.com',
        setup: setup([{ selector: 's', file: '/k', publicKey: rsaKey }]),
        records: { s: ok(['v=DKIM1; k=rsa; p=']) },
      }).summary
    ).toContain('revoked');
  });

  it('warns about an ed25519 key without an RSA companion, and about t=y', () => {
    const edOnly = evaluateDkim({
      domain: 'example.com',
      setup: setup([{ selector: 'e', file: '/e', publicKey: edKey }]),
      records: { e: ok([dkimRecordValue(edKey)]) },
    });
    expect(edOnly).toMatchObject({ status: 'warn', fix: 'Add an RSA key: mailops dkim-rotate example.com --algo rsa2048' });
    const both = evaluateDkim({
      domain: 'example.com',
      setup: setup([
        { selector: 'e', file: '/e', publicKey: edKey },
        { selector: 'r', file: '/r', publicKey: rsaKey },
      ]),
      records: { e: ok([dkimRecordValue(edKey)]), r: ok(split(dkimRecordValue(rsaKey))) },
    });
    expect(both.status).toBe('pass');
    const testing = evaluateDkim({
      domain: 'example.com',
      setup: setup([{ selector: 'e', file: '/e', publicKey: edKey }]),
      records: { e: ok([`${dkimRecordValue(edKey)}; t=y`]) },
    });
    expect(testing.summary).toContain('test mode');
  });
});

describe('dmarc', () => {
  it('finds syntax errors', () => {
    expect(parseDmarc('v=DMARC1; rua=mailto:a@b.example').errors).toContain('the required p= tag is missing');
    expect(parseDmarc('v=DMARC1; pct=150; p=reject').errors).toEqual(['pct=150 is not a valid value', 'p= must come right after v=DMARC1']);
  });

  it('passes an external report address that is authorised', () => {
    const result = evaluateDmarc({
      domain: 'example.com',
      txt: ok(['v=DMARC1; p=reject; rua=mailto:r@reports.example.net']),
      authorisations: { 'example.com._report._dmarc.reports.example.net': ok(['v=DMARC1']) },
    });
    expect(result).toMatchObject({ status: 'pass', summary: 'p=reject, reports to r@reports.example.net' });
  });

  it('warns about pct under 100', () => {
    expect(evaluateDmarc({ domain: 'example.com', txt: ok(['v=DMARC1; p=reject; pct=20']), authorisations: {} }).fix).toContain(
      '"v=DMARC1; p=reject; pct=100"'
    );
  });

  it('does not take v=DMARC10 for a second DMARC record', () => {
    expect(isDmarcRecord('v=DMARC10; p=none')).toBe(false);
    const result = evaluateDmarc({
      domain: 'example.com',
      txt: ok(['v=DMARC10; p=none'], ['v=DMARC1; p=reject; rua=mailto:r@reports.example.net']),
      authorisations: { 'example.com._report._dmarc.reports.example.net': ok(['v=DMARC1']) },
    });
    expect(result).toMatchObject({ status: 'pass', summary: 'p=reject, reports to r@reports.example.net' });
  });

  it('reads tag names and keyword values in any case, but DMARC1 only in capitals', () => {
    expect(isDmarcRecord('V=DMARC1; P=REJECT')).toBe(true);
    expect(isDmarcRecord('v=dmarc1; p=reject')).toBe(false);
    expect(parseDmarc('V=DMARC1; P=REJECT; ADKIM=S').errors).toEqual([]);
    expect(evaluateDmarc({ domain: 'example.com', txt: ok(['V=DMARC1; P=REJECT']), authorisations: {} })).toMatchObject({
      status: 'pass',
      summary: 'p=reject, no aggregate reports (rua)',
    });
  });

  it('warns about a report URI that is valid but not mailto:, and fails one that is no URI', () => {
    const https = evaluateDmarc({
      domain: 'example.com',
      txt: ok(['v=DMARC1; p=reject; rua=https://reports.example.net/dmarc']),
      authorisations: {},
    });
    expect(https.status).toBe('warn');
    expect(https.summary).toContain('rua=https://reports.example.net/dmarc is not a mailto: address');
    expect(https.fix).toBe('Publish: _dmarc.example.com. 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:postmaster@example.com"');
    const bad = evaluateDmarc({ domain: 'example.com', txt: ok(['v=DMARC1; p=reject; rua=reports at example']), authorisations: {} });
    expect(bad).toMatchObject({ status: 'fail', summary: expect.stringContaining('"reports at example" is not a valid report URI') });
  });

  it('never suggests the record already published', () => {
    for (const text of [
      'v=DMARC1; p=none',
      'v=DMARC1; p=reject; pct=0',
      'v=DMARC1; p=quarantine; rua=https://r.example.net/',
      'v=DMARC1; p=bogus',
    ]) {
      const result = evaluateDmarc({ domain: 'example.com', txt: ok([text]), authorisations: {} });
      expect(result.fix).toBeDefined();
      expect(result.fix).not.toContain(`"${text}"`);
    }
  });
});

describe('mta-sts and tls-rpt', () => {
  const txt = ok(['v=STSv1; id=20250101']);
  it('warns when the policy does not cover the MX host, or is only testing; passes when enforced', () => {
    expect(
      evaluateMtaSts({ domain: 'example.com', hostname, txt, policy: { policy: { mode: 'enforce', mx: ['mx.other.example'] } } }).status
    ).toBe('warn');
    expect(
      evaluateMtaSts({ domain: 'example.com', hostname, txt, policy: { policy: { mode: 'testing', mx: ['*.example.com'] } } }).summary
    ).toContain('mode testing');
    expect(
      evaluateMtaSts({ domain: 'example.com', hostname, txt, policy: { policy: { mode: 'enforce', mx: ['*.example.com'] } } }).status
    ).toBe('pass');
    expect(
      evaluateMtaSts({ domain: 'example.com', hostname, txt: ok(['v=STSv1; id=1'], ['v=STSv1; id=2']), policy: undefined }).status
    ).toBe('warn');
  });

  it('matches wildcards on one label only', () => {
    expect(mxMatches('*.example.com', 'mail.example.com')).toBe(true);
    expect(mxMatches('*.example.com', 'a.mail.example.com')).toBe(false);
  });

  it('warns about several TLS-RPT records or one without rua', () => {
    expect(
      evaluateTlsRpt({ domain: 'example.com', txt: ok(['v=TLSRPTv1; rua=mailto:a@example.com'], ['v=TLSRPTv1; rua=mailto:b@example.com']) })
        .status
    ).toBe('warn');
    expect(evaluateTlsRpt({ domain: 'example.com', txt: ok(['v=TLSRPTv1;']) }).status).toBe('warn');
  });
});

describe('tls', () => {
  it('fails a server that does not offer STARTTLS', () => {
    const result = evaluateTls({
      endpoint: { service: 'smtp', mode: 'starttls', port: 25, host: hostname },
      hostname,
      probes: [{ address: '203.0.113.5', probe: { ok: false, stage: 'starttls', error: 'the server does not offer STARTTLS' } }],
      installed: [],
      now: new Date(),
      restartCommand: 'systemctl restart chasquid',
    });
    expect(result).toMatchObject({
      status: 'fail',
      port: 25,
      service: 'smtp',
      summary: 'STARTTLS on 25: no STARTTLS: the server does not offer STARTTLS',
    });
    expect(result.fix).toContain('systemctl restart chasquid');
  });
});

describe('dnsbl', () => {
  it('reads the answers of the lists', () => {
    expect(dnsblVerdict('zen.spamhaus.org', ok('127.0.0.2'))).toBe('listed');
    expect(dnsblVerdict('zen.spamhaus.org', ok('127.255.255.254'))).toBe('refused');
    expect(dnsblVerdict('dbl.spamhaus.org', ok('127.0.1.255'))).toBe('refused');
    expect(dnsblVerdict('multi.surbl.org', ok('127.0.0.1'))).toBe('refused');
    expect(dnsblVerdict('zen.spamhaus.org', ok('198.51.100.1'))).toBe('unexpected');
    expect(dnsblVerdict('zen.spamhaus.org', nxdomain)).toBe('clean');
    expect(dnsblVerdict('zen.spamhaus.org', timeout)).toBe('temperror');
  });

  it('queries IPv6 addresses by nibbles and domains as they are', () => {
    expect(dnsblQueryName('2001:db8::1', 'zen.spamhaus.org')).toBe(
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org'
    );
    expect(dnsblQueryName('example.com', 'dbl.spamhaus.org')).toBe('example.com.dbl.spamhaus.org');
  });

  it('when no list answered, says so and counts no lists: unknown, not "not listed on 0 of 5 lists"', () => {
    const zones = { ip: ['zen.spamhaus.org', 'bl.spamcop.net'], domain: ['dbl.spamhaus.org'] };
    const queries = [
      { subject: '203.0.113.5', zone: 'zen.spamhaus.org', answer: timeout },
      { subject: '203.0.113.5', zone: 'bl.spamcop.net', answer: timeout },
      { subject: 'example.com', zone: 'dbl.spamhaus.org', answer: timeout },
    ];
    const result = evaluateDnsbl({ queries, subjects: ['203.0.113.5', 'example.com'], zones });
    expect(result).toMatchObject({ status: 'warn', temperror: true });
    expect(result.summary).toMatch(
      /^could not be checked \(temperror\): no blocklist answered: could not query zen\.spamhaus\.org, bl\.spamcop\.net, dbl\.spamhaus\.org/
    );
    expect(result.summary).not.toMatch(/not listed on \d+ of/);
  });

  it('counts only the lists that answered', () => {
    const zones = { ip: ['zen.spamhaus.org', 'bl.spamcop.net'], domain: [] };
    const queries = [
      { subject: '203.0.113.5', zone: 'zen.spamhaus.org', answer: nxdomain },
      { subject: '203.0.113.5', zone: 'bl.spamcop.net', answer: timeout },
    ];
    expect(evaluateDnsbl({ queries, subjects: ['203.0.113.5'], zones }).summary).toMatch(
      /^203\.0\.113\.5 not listed on 1 of 2 lists; could not query bl\.spamcop\.net/
    );
  });

  it('warns about an answer that is not a listing code', () => {
    const result = evaluateDnsbl({
      queries: [{ subject: '203.0.113.5', zone: 'zen.spamhaus.org', answer: ok('198.51.100.1') }],
      subjects: ['203.0.113.5'],
      zones: { ip: ['zen.spamhaus.org'], domain: [] },
    });
    expect(result.status).toBe('warn');
  });
});

describe('e2e', () => {
  it('fails an unsigned message and an SPF failure, each with its fix', () => {
    const result = evaluateE2e({
      domain: 'example.com',
      sender: 'mailops-probe@example.com',
      ip: '203.0.113.5',
      outcome: { verdicts: { dkim: [], spf: { result: 'fail' }, dmarc: { result: 'fail' } } },
    });
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(
      'message from mailops-probe@example.com: DKIM: the message was not signed for the domain, SPF fail (203.0.113.5), DMARC fail'
    );
    expect(result.fix).toBe(
      'Make chasquid sign mail of example.com: mailops dkim-rotate example.com (see the dkim check); Authorise 203.0.113.5 in the SPF record of example.com (see the spf check)'
    );
  });

  it('fails with the step that went wrong', () => {
    expect(evaluateE2e({ domain: 'example.com', sender: 's', ip: 'i', outcome: { failed: 'could not connect', fix: 'do this' } })).toEqual({
      id: 'e2e',
      status: 'fail',
      summary: 'could not connect',
      fix: 'do this',
    });
  });
});

describe('the report', () => {
  const result = (id: CheckResult['id'], status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult => ({
    id,
    status,
    summary: '',
    ...extra,
  });

  it("says which providers' requirements are met, TLS judged on the smtp service", () => {
    const results = [
      result('spf', 'pass'),
      result('dkim', 'fail'),
      result('dmarc', 'warn'),
      result('ptr', 'pass'),
      result('tls', 'pass', { service: 'smtp' }),
      result('tls', 'fail', { service: 'submission' }),
    ];
    expect(providerRequirements(results).line).toBe('Gmail: not met (DKIM) · Yahoo: not met (DKIM) · Outlook: not met (DKIM)');
    expect(worstStatus(results)).toBe('fail');
    expect(worstStatus([result('mta-sts', 'skip'), result('spf', 'warn')])).toBe('warn');
  });

  it('calls a requirement that could not be checked unknown, never "not met"', () => {
    const unknown = (id: CheckResult['id']) => result(id, 'fail', { temperror: true, needsHost: true });
    const unreachable = [unknown('spf'), unknown('dkim'), result('dmarc', 'pass'), unknown('ptr'), unknown('tls')];
    const summary = providerRequirements(unreachable);
    expect(summary.line).toBe(
      'Gmail: unknown (SPF, DKIM, reverse DNS, TLS could not be checked) · Yahoo: unknown (SPF, DKIM, reverse DNS, TLS could not be checked) · Outlook: unknown (SPF, DKIM could not be checked)'
    );
    expect(summary.providers.gmail).toEqual({ status: 'unknown', met: false, missing: [], unknown: ['SPF', 'DKIM', 'reverse DNS', 'TLS'] });
    // A requirement known to fail decides: not met, and the unknown ones are named as such.
    const mixed = providerRequirements([unknown('spf'), result('dkim', 'fail'), result('dmarc', 'pass')]);
    expect(mixed.providers.outlook).toEqual({ status: 'not-met', met: false, missing: ['DKIM'], unknown: ['SPF'] });
    expect(mixed.line).toContain('Outlook: not met (DKIM; SPF unknown)');
  });
});
