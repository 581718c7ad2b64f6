// `check` against a real mail host: Knot serving a right mail domain and domains broken in each way, chasquid
// (both builds) with DKIM keys in each build's layout, live TLS on its three services, blocklists as lab zones.

import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/result.ts';
import { parseConfig } from '../../src/config.ts';
import { mailHostFromConfig, type MailHost } from '../../src/host/mail-host.ts';
import { createLogger, Redactor } from '../../src/log.ts';
import { check, type CheckReport } from '../../src/ops/check.ts';
import type { OperationContext } from '../../src/ops/context.ts';
import { openDatabase } from '../../src/store/database.ts';
import { saveAcmeAccount } from '../../src/store/renewal-info.ts';
import { runCli } from '../cli.ts';
import { processGone, waitFor } from '../wait.ts';
import { dkimKey, mailZone, txt, zone } from './check-zones.ts';
import { startLab, type Lab, type LabOptions } from './lab.ts';

const logger = createLogger({ level: 'silent', redactor: new Redactor() });
const hostname = 'mail.good.test';
const H = `${hostname}.`;

/**
 * Zones every scenario serves: blocklists (one that lists nothing, one that lists 127.0.0.1, one that refuses, a domain
 * list), the domain good.test sends DMARC reports to (which authorises them), and a domain that does not.
 */
const worldZones = {
  'reports.test': zone('reports.test', [txt('good.test._report._dmarc', 'v=DMARC1'), txt('dmarcv10.test._report._dmarc', 'v=DMARC1')]),
  'elsewhere.test': zone('elsewhere.test', []),
  'ipbl-clean.test': zone('ipbl-clean.test', []),
  'ipbl-listed.test': zone('ipbl-listed.test', ['1.0.0.127 A 127.0.0.2']),
  'ipbl-refusing.test': zone('ipbl-refusing.test', ['1.0.0.127 A 127.255.255.254']),
  'dombl.test': zone('dombl.test', ['listed.test A 127.0.1.2']),
};
const cleanLists = { DNSBL_IP_ZONES: 'ipbl-clean.test', DNSBL_DOMAIN_ZONES: 'dombl.test' };

interface Scenario {
  lab: Lab;
  host: MailHost;
  certificate: string;
  /** Runs the check in-process; with `probe`, the end-to-end probe runs too (state database and audit of the lab). */
  run(
    domain: string,
    options?: { env?: Record<string, string>; now?: Date; trustLabCertificate?: boolean; probe?: boolean }
  ): Promise<CheckReport>;
}

async function scenario(options: LabOptions): Promise<Scenario> {
  const lab = await startLab({ ...options, zones: { ...worldZones, ...options.zones } });
  const host = mailHostFromConfig(parseConfig(lab.env), logger);
  const certificate = readFileSync(path.join(lab.chasquidDir, 'certs', lab.hostname, 'fullchain.pem'), 'utf8');
  return {
    lab,
    host,
    certificate,
    run(domain, { env = {}, now = new Date(), trustLabCertificate = true, probe = false } = {}) {
      const config = parseConfig({ ...lab.env, ...cleanLists, ...env });
      const operation: OperationContext = {
        host,
        chasquidDir: lab.chasquidDir,
        database: database(lab),
        logger,
        actor: 'test',
        now: () => now,
        config,
        redactor: new Redactor(),
      };
      return check(operation, { domain, probe, ...(trustLabCertificate ? { extraCa: [certificate] } : {}) });
    },
  };
}

const databases = new Map<Lab, DatabaseSync>();
const database = (lab: Lab): DatabaseSync =>
  databases.get(lab) ?? (databases.set(lab, openDatabase(lab.env.STATE_DB ?? '')).get(lab) as DatabaseSync);

async function stop(scenarios: Array<Scenario | undefined>): Promise<void> {
  await Promise.all(
    scenarios.map(async (entry) => {
      await entry?.host.close();
      if (entry) databases.get(entry.lab)?.close();
      await entry?.lab.stop();
    })
  );
}

function one(report: CheckReport, id: string): CheckResult {
  const results = report.checks.filter((result) => result.id === id);
  expect(results).toHaveLength(1);
  return results[0] as CheckResult;
}

const good = dkimKey();
const otherKey = dkimKey();
const weak = dkimKey('rsa', 1024);

const goodZone = mailZone('good.test', hostname, {
  dmarc: ['v=DMARC1; p=reject; rua=mailto:reports@reports.test'],
  extra: [
    'mail A 127.0.0.1',
    txt('s1._domainkey', good.record),
    txt('_smtp._tls', 'v=TLSRPTv1; rua=mailto:tls@good.test'),
    '@ CAA 0 issue "letsencrypt.org"',
    '@ CAA 0 iodef "mailto:security@good.test"',
  ],
});

const broken: Record<string, string> = {
  'nomx.test': mailZone('nomx.test', hostname, { mx: [] }),
  'nullmx.test': mailZone('nullmx.test', hostname, { mx: ['0 .'] }),
  'othermx.test': mailZone('othermx.test', hostname, { mx: ['10 mx.elsewhere.test.'] }),
  'dupmx.test': mailZone('dupmx.test', hostname, { mx: [`10 ${H}`, `20 ${H}`] }),
  'nospf.test': mailZone('nospf.test', hostname, { spf: [] }),
  'twospf.test': mailZone('twospf.test', hostname, { spf: ['v=spf1 mx -all', 'v=spf1 a -all'] }),
  'plusall.test': mailZone('plusall.test', hostname, { spf: ['v=spf1 mx +all'] }),
  'spfsyntax.test': mailZone('spfsyntax.test', hostname, { spf: ['v=spf1 mx foo:bar -all'] }),
  'spfmany.test': mailZone('spfmany.test', hostname, {
    spf: [`v=spf1 ${Array.from({ length: 11 }, (_, index) => `a:h${index}.spfmany.test`).join(' ')} -all`],
    extra: Array.from({ length: 11 }, (_, index) => `h${index} A 192.0.2.${index + 1}`),
  }),
  'spfvoid.test': mailZone('spfvoid.test', hostname, { spf: ['v=spf1 a:v1.spfvoid.test a:v2.spfvoid.test a:v3.spfvoid.test mx -all'] }),
  'spfnotauth.test': mailZone('spfnotauth.test', hostname, { spf: ['v=spf1 ip4:192.0.2.77 -all'] }),
  'spfinclude.test': mailZone('spfinclude.test', hostname, { spf: ['v=spf1 include:missing.spfinclude.test -all'] }),
  'spfopeninclude.test': mailZone('spfopeninclude.test', hostname, {
    spf: ['v=spf1 mx include:_open.spfopeninclude.test -all'],
    extra: [txt('_open', 'v=spf1 +all')],
  }),
  'spfopenredirect.test': mailZone('spfopenredirect.test', hostname, {
    spf: ['v=spf1 redirect=_spf.spfopenredirect.test'],
    extra: [txt('_spf', 'v=spf1 mx ?all')],
  }),
  'spffirstall.test': mailZone('spffirstall.test', hostname, { spf: ['v=spf1 +all mx -all'] }),
  'spfafterall.test': mailZone('spfafterall.test', hostname, { spf: ['v=spf1 mx -all ip4:192.0.2.1 ?all'] }),
  'spfmxlimit.test': mailZone('spfmxlimit.test', hostname, {
    mx: [`10 ${H}`, ...Array.from({ length: 10 }, (_, index) => `20 mx${index}.spfmxlimit.test.`)],
    extra: Array.from({ length: 10 }, (_, index) => `mx${index} A 192.0.2.${index + 1}`),
  }),
  'spfv6void.test': mailZone('spfv6void.test', hostname, {
    spf: ['v=spf1 a:v1.spfv6void.test a:v2.spfv6void.test a:v3.spfv6void.test mx -all'],
    extra: ['v1 AAAA 2001:db8::1', 'v2 AAAA 2001:db8::2', 'v3 AAAA 2001:db8::3'],
  }),
  'spflatesyntax.test': mailZone('spflatesyntax.test', hostname, { spf: ['v=spf1 mx a/33 -all'] }),
  'spfprovider.test': mailZone('spfprovider.test', hostname, {
    spf: ['v=spf1 mx include:_spf.spfprovider.test -all'],
    extra: [txt('_spf', 'v=spf1 ip4:198.51.100.0/24 -all')],
  }),
  'dmarcv10.test': mailZone('dmarcv10.test', hostname, {
    dmarc: ['v=DMARC10; p=none', 'v=DMARC1; p=reject; rua=mailto:reports@reports.test'],
  }),
  'dmarcupper.test': mailZone('dmarcupper.test', hostname, { dmarc: ['V=DMARC1; P=REJECT'] }),
  'nodmarc.test': mailZone('nodmarc.test', hostname, { dmarc: [] }),
  'twodmarc.test': mailZone('twodmarc.test', hostname, { dmarc: ['v=DMARC1; p=reject', 'v=DMARC1; p=none'] }),
  'dmarcsyntax.test': mailZone('dmarcsyntax.test', hostname, { dmarc: ['v=DMARC1; p=bogus'] }),
  'dmarchttps.test': mailZone('dmarchttps.test', hostname, { dmarc: ['v=DMARC1; p=reject; rua=https://reports.example/dmarc'] }),
  'dmarcnone.test': mailZone('dmarcnone.test', hostname, { dmarc: ['v=DMARC1; p=none; rua=mailto:d@dmarcnone.test'] }),
  'dmarcext.test': mailZone('dmarcext.test', hostname, { dmarc: ['v=DMARC1; p=reject; rua=mailto:d@elsewhere.test'] }),
  'dkimnorecord.test': mailZone('dkimnorecord.test', hostname),
  'dkimmismatch.test': mailZone('dkimmismatch.test', hostname, { extra: [txt('s1._domainkey', otherKey.record)] }),
  'dkimweak.test': mailZone('dkimweak.test', hostname, { extra: [txt('s1._domainkey', weak.record)] }),
  // CAA: another CA only; Let's Encrypt but for another account.
  'caaother.test': mailZone('caaother.test', hostname, { extra: ['@ CAA 0 issue "sectigo.com"', '@ CAA 0 issuewild ";"'] }),
  'caaaccount.test': mailZone('caaaccount.test', hostname, {
    extra: ['@ CAA 0 issue "letsencrypt.org; accounturi=https://acme-staging-v02.api.letsencrypt.org/acme/acct/999"'],
  }),
  'stsbroken.test': mailZone('stsbroken.test', hostname, { extra: [txt('_mta-sts', 'v=STSv1; id=20250101')] }),
  'stsnoid.test': mailZone('stsnoid.test', hostname, { extra: [txt('_mta-sts', 'v=STSv1; id=not-valid!')] }),
  'rptbad.test': mailZone('rptbad.test', hostname, { extra: [txt('_smtp._tls', 'v=TLSRPTv1; rua=ftp://reports.example/')] }),
  'listed.test': mailZone('listed.test', hostname),
};

describe('check against chasquid 1.15, Knot and the blocklist zones', () => {
  let main: Scenario;

  beforeAll(async () => {
    main = await scenario({
      chasquid: '1.15',
      domains: ['good.test', ...Object.keys(broken)],
      zones: { 'good.test': goodZone, ...broken },
      dkimKeys: [
        { domain: 'good.test', selector: 's1', privateKeyPem: good.privateKeyPem },
        { domain: 'dkimnorecord.test', selector: 's1', privateKeyPem: good.privateKeyPem },
        { domain: 'dkimmismatch.test', selector: 's1', privateKeyPem: good.privateKeyPem },
        { domain: 'dkimweak.test', selector: 's1', privateKeyPem: weak.privateKeyPem },
      ],
    });
  });

  afterAll(async () => {
    await stop([main]);
  });

  it("passes every check of a right domain, a real message included, and says which providers' requirements it meets", async () => {
    const report = await main.run('good.test', { probe: true });
    const statuses = Object.fromEntries(
      report.checks.map((result) => [result.port === undefined ? result.id : `tls:${result.service}`, result.status])
    );
    expect(statuses).toEqual({
      mx: 'pass',
      'mx-address': 'pass',
      ptr: 'pass',
      spf: 'pass',
      dkim: 'pass',
      dmarc: 'pass',
      'mta-sts': 'skip',
      'tls-rpt': 'pass',
      'tls:smtp': 'pass',
      'tls:submission': 'pass',
      'tls:submission-tls': 'pass',
      caa: 'pass',
      dnsbl: 'pass',
      e2e: 'pass',
    });
    expect(report.ok).toBe(true);
    expect(report.worst).toBe('pass');
    expect(report.checks.map((result) => result.id)).toEqual([
      'mx',
      'mx-address',
      'ptr',
      'spf',
      'dkim',
      'dmarc',
      'mta-sts',
      'tls-rpt',
      'tls',
      'tls',
      'tls',
      'caa',
      'dnsbl',
      'e2e',
    ]);
    expect(one(report, 'ptr').summary).toContain(`127.0.0.1 → ${hostname}`);
    expect(one(report, 'dkim').summary).toContain('selector s1 (RSA 2048)');
    expect(one(report, 'dmarc').summary).toContain('reports@reports.test');
    expect(report.checks.filter((result) => result.id === 'tls').map((result) => result.port)).toEqual([
      main.lab.ports.smtp,
      main.lab.ports.submission,
      main.lab.ports.submissionTls,
    ]);
    expect(report.summary).toBe('Gmail: requirements met · Yahoo: requirements met · Outlook: requirements met');
    expect(one(report, 'e2e').summary).toBe(
      'message from mailops-probe@good.test: DKIM pass (d=good.test, s=s1), SPF pass (127.0.0.1), DMARC pass'
    );
  });

  describe('e2e', () => {
    it('creates the probe once, visible in users and aliases, and reuses it', async () => {
      const users = await runCli(['users', 'good.test', '--json', '--env-file', main.lab.envFile]);
      expect(JSON.parse(users.stdout).users).toContain('mailops-probe@good.test');
      const aliases = await runCli(['aliases', 'good.test', '--json', '--env-file', main.lab.envFile]);
      expect(JSON.parse(aliases.stdout).aliases.map((alias: { address: string }) => alias.address)).toContain(
        'mailops-probe-inbox@good.test'
      );
      const again = await main.run('good.test', { probe: true });
      expect(one(again, 'e2e').status).toBe('pass');
      const setups = database(main.lab)
        .prepare("SELECT count(*) AS n FROM audit WHERE operation = 'probe-setup' AND target = 'good.test' AND outcome = 'ok'")
        .get() as { n: number };
      expect(setups.n).toBe(1);
    });

    it('fails with the reason when the signing key is not published', async () => {
      const result = one(await main.run('dkimnorecord.test', { probe: true }), 'e2e');
      expect(result.status).toBe('fail');
      // DMARC still passes through the aligned SPF pass; the message is unsigned as far as receivers can tell.
      expect(result.summary).toBe(
        'message from mailops-probe@dkimnorecord.test: DKIM neutral (s=s1: no key), SPF pass (127.0.0.1), DMARC pass'
      );
      expect(result.fix).toContain("Publish the host's DKIM key as the dkim check says");
    });
  });

  describe('mx', () => {
    it.each([
      ['nomx.test', 'has no MX record', 'nomx.test. 3600 IN MX 10 mail.good.test.'],
      ['nullmx.test', 'null MX', 'nullmx.test. 3600 IN MX 10 mail.good.test.'],
      ['othermx.test', 'does not point at the mail host mail.good.test', 'othermx.test. 3600 IN MX 10 mail.good.test.'],
    ])('fails for %s', async (domain, summary, fix) => {
      const result = one(await main.run(domain), 'mx');
      expect(result.status).toBe('fail');
      expect(result.summary).toContain(summary);
      expect(result.fix).toContain(fix);
    });

    it('warns when the host is listed twice', async () => {
      const result = one(await main.run('dupmx.test'), 'mx');
      expect(result.status).toBe('warn');
      expect(result.summary).toContain('more than once');
    });
  });

  describe('spf', () => {
    it.each([
      ['nospf.test', 'publishes no SPF record', 'nospf.test. 3600 IN TXT "v=spf1 mx -all"'],
      ['twospf.test', 'publishes 2 SPF records', 'v=spf1 mx -all'],
      ['plusall.test', '+all gives pass to every address (0.0.0.0/0)', 'plusall.test. 3600 IN TXT "v=spf1 mx -all"'],
      ['spfsyntax.test', '"foo:bar" is not an SPF mechanism', 'v=spf1 mx -all'],
      [
        'spfmany.test',
        'more than 10 DNS lookups (the 11th is a:h10.spfmany.test in the record of spfmany.test)',
        'spfmany.test. 3600 IN TXT "v=spf1 mx -all"',
      ],
      ['spfvoid.test', 'more than 2 lookups find nothing: A v1.spfvoid.test (a:v1.spfvoid.test), A v2.spfvoid.test', 'v=spf1 mx -all'],
      ['spfnotauth.test', 'does not authorise 127.0.0.1 (fail: -all)', 'spfnotauth.test. 3600 IN TXT "v=spf1 ip4:192.0.2.77 mx -all"'],
      [
        'spfinclude.test',
        'include:missing.spfinclude.test (in the record of spfinclude.test): missing.spfinclude.test has no SPF record',
        'v=spf1 mx -all',
      ],
      // What a comparison with pyspf found: an open policy is not a pass, wherever the opening is.
      [
        'spfopeninclude.test',
        'include:_open.spfopeninclude.test (include:_open.spfopeninclude.test → +all) gives pass to every address',
        'Remove include:_open.spfopeninclude.test: Publish: spfopeninclude.test. 3600 IN TXT "v=spf1 mx -all"',
      ],
      [
        'spfopenredirect.test',
        'redirect=_spf.spfopenredirect.test (redirect=_spf.spfopenredirect.test → ?all) gives neutral to every address',
        'Remove redirect=_spf.spfopenredirect.test: Publish: spfopenredirect.test. 3600 IN TXT "v=spf1 mx -all"',
      ],
      ['spffirstall.test', '+all gives pass to every address', 'Remove +all: Publish: spffirstall.test. 3600 IN TXT "v=spf1 mx -all"'],
      // mailauth stops at the first match, so the host passed; every other sender gets permerror.
      [
        'spfmxlimit.test',
        'spfmxlimit.test has 11 MX records; the "mx" term allows at most 10',
        'spfmxlimit.test. 3600 IN TXT "v=spf1 a:mail.good.test -all"',
      ],
      ['spfv6void.test', 'for 127.0.0.1: more than 2 lookups find nothing: A v1.spfv6void.test', 'v=spf1 mx -all'],
      ['spflatesyntax.test', '"a/33": /33 is not an IPv4 prefix length', 'spflatesyntax.test. 3600 IN TXT "v=spf1 mx -all"'],
    ])('fails for %s', async (domain, summary, fix) => {
      const result = one(await main.run(domain), 'spf');
      expect(result.status).toBe('fail');
      expect(result.summary).toContain(summary);
      expect(result.fix).toContain(fix);
      // The fix never suggests the record already published.
      const published = /"(v=spf1[^"]*)" /.exec(result.summary)?.[1];
      if (published !== undefined) expect(result.fix).not.toContain(`"${published}"`);
    });

    it('ignores the terms after the first all', async () => {
      const result = one(await main.run('spfafterall.test'), 'spf');
      expect(result).toMatchObject({
        status: 'pass',
        summary: '"v=spf1 mx -all ip4:192.0.2.1 ?all" authorises 127.0.0.1 with 1 DNS lookup',
      });
    });

    it('warns about an include that lets another provider send, naming it', async () => {
      const result = one(await main.run('spfprovider.test'), 'spf');
      expect(result.status).toBe('warn');
      expect(result.summary).toContain(
        "include:_spf.spfprovider.test (include:_spf.spfprovider.test → ip4:198.51.100.0/24) also gives pass to addresses that are not the mail host's"
      );
      expect(result.fix).toBe(
        'If those are not your senders, remove include:_spf.spfprovider.test: Publish: spfprovider.test. 3600 IN TXT "v=spf1 mx -all"'
      );
    });
  });

  describe('dkim', () => {
    it('fails when the host has no key for the domain', async () => {
      const result = one(await main.run('nospf.test'), 'dkim');
      expect(result).toMatchObject({ status: 'fail', fix: 'Create and publish a key: mailops dkim-rotate nospf.test' });
    });

    it("fails when the host's key is not published, and gives the record", async () => {
      const result = one(await main.run('dkimnorecord.test'), 'dkim');
      expect(result.status).toBe('fail');
      expect(result.summary).toContain('no key published at s1._domainkey.dkimnorecord.test');
      // The record to publish is the host's key, split into strings of at most 255 bytes.
      const p = /p=([A-Za-z0-9+/=]+)/.exec(good.record)?.[1] ?? '';
      expect(result.fix?.startsWith('Publish: s1._domainkey.dkimnorecord.test. 3600 IN TXT "v=DKIM1; k=rsa; p=')).toBe(true);
      expect(result.fix?.replace(/" "/g, '')).toContain(p);
    });

    it("fails when the published key is not the host's", async () => {
      const result = one(await main.run('dkimmismatch.test'), 'dkim');
      expect(result.status).toBe('fail');
      expect(result.summary).toContain('is not the key on the host');
    });

    it('warns about a 1024-bit key', async () => {
      const result = one(await main.run('dkimweak.test'), 'dkim');
      expect(result).toMatchObject({ status: 'warn', fix: 'Use a 2048-bit key: mailops dkim-rotate dkimweak.test --algo rsa2048' });
    });
  });

  describe('dmarc', () => {
    it.each([
      [
        'nodmarc.test',
        'publishes no DMARC record',
        '_dmarc.nodmarc.test. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:mailops-reports@nodmarc.test"',
      ],
      ['twodmarc.test', 'holds 2 DMARC records', '_dmarc.twodmarc.test. 3600 IN TXT'],
      ['dmarcsyntax.test', 'p=bogus is not a valid value', '_dmarc.dmarcsyntax.test. 3600 IN TXT'],
    ])('fails for %s', async (domain, summary, fix) => {
      const result = one(await main.run(domain), 'dmarc');
      expect(result.status).toBe('fail');
      expect(result.summary).toContain(summary);
      expect(result.fix).toContain(fix);
    });

    it('warns about a report address that is an https: URI (valid, but receivers send reports only by mail)', async () => {
      const result = one(await main.run('dmarchttps.test'), 'dmarc');
      expect(result.status).toBe('warn');
      expect(result.summary).toContain('rua=https://reports.example/dmarc is not a mailto: address');
      expect(result.fix).toBe(
        'Publish: _dmarc.dmarchttps.test. 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:mailops-reports@dmarchttps.test"'
      );
    });

    it("does not take v=DMARC10 for a second record, and checks the real one's external report address", async () => {
      expect(one(await main.run('dmarcv10.test'), 'dmarc')).toMatchObject({
        status: 'pass',
        summary: 'p=reject, reports to reports@reports.test',
      });
    });

    it('reads upper-case tag names and values', async () => {
      expect(one(await main.run('dmarcupper.test'), 'dmarc')).toMatchObject({
        status: 'pass',
        summary: 'p=reject, no aggregate reports (rua)',
      });
    });

    it('warns about p=none', async () => {
      const result = one(await main.run('dmarcnone.test'), 'dmarc');
      expect(result.status).toBe('warn');
      expect(result.fix).toContain('_dmarc.dmarcnone.test. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@dmarcnone.test"');
    });

    it('warns when a report address in another domain is not authorised', async () => {
      const result = one(await main.run('dmarcext.test'), 'dmarc');
      expect(result.status).toBe('warn');
      expect(result.fix).toContain('dmarcext.test._report._dmarc.elsewhere.test. 3600 IN TXT "v=DMARC1"');
    });
  });

  describe('caa', () => {
    it('passes when the CAA records allow the configured CA, naming them', async () => {
      const result = one(await main.run('good.test'), 'caa');
      expect(result.status).toBe('pass');
      expect(result.summary).toBe(
        'CAA at good.test: 0 iodef "mailto:security@good.test", 0 issue "letsencrypt.org" — letsencrypt.org may issue'
      );
    });

    it("warns when there are none, with the exact record for the configured CA (and mailops's account once known)", async () => {
      const result = one(await main.run('nospf.test'), 'caa');
      expect(result.status).toBe('warn');
      expect(result.summary).toBe('no CAA records for nospf.test: any CA may issue certificates for it');
      expect(result.fix).toBe('To allow only letsencrypt.org (ACME_DIRECTORY): nospf.test. 3600 IN CAA 0 issue "letsencrypt.org"');
      // Once a renewal has recorded mailops's account at that CA, the record binds it (RFC 8657 accounturi).
      const staging = 'https://acme-staging-v02.api.letsencrypt.org/directory';
      saveAcmeAccount(database(main.lab), staging, 'https://acme-staging-v02.api.letsencrypt.org/acme/acct/123', new Date());
      const bound = one(await main.run('nospf.test', { env: { ACME_DIRECTORY: staging } }), 'caa');
      expect(bound.fix).toBe(
        'To allow only letsencrypt.org (ACME_DIRECTORY), for mailops\'s account: nospf.test. 3600 IN CAA 0 issue "letsencrypt.org; accounturi=https://acme-staging-v02.api.letsencrypt.org/acme/acct/123"'
      );
    });

    it('fails when CAA allows only other CAs, or the configured CA only for another account, with the record to add', async () => {
      const report = await main.run('caaother.test');
      const other = one(report, 'caa');
      expect(other.status).toBe('fail');
      expect(other.summary).toBe(
        'CAA at caaother.test allows only sectigo.com: letsencrypt.org (ACME_DIRECTORY) may not issue the certificate mailops renews'
      );
      expect(other.fix).toBe('Add caaother.test. 3600 IN CAA 0 issue "letsencrypt.org" (keep the records of the CAs you also use)');
      expect(report.ok).toBe(false);

      const staging = 'https://acme-staging-v02.api.letsencrypt.org/directory';
      saveAcmeAccount(database(main.lab), staging, 'https://acme-staging-v02.api.letsencrypt.org/acme/acct/123', new Date());
      const account = one(await main.run('caaaccount.test', { env: { ACME_DIRECTORY: staging } }), 'caa');
      expect(account.status).toBe('fail');
      expect(account.summary).toContain("not mailops's (https://acme-staging-v02.api.letsencrypt.org/acme/acct/123)");
      expect(account.fix).toBe(
        'Add caaaccount.test. 3600 IN CAA 0 issue "letsencrypt.org; accounturi=https://acme-staging-v02.api.letsencrypt.org/acme/acct/123"'
      );
    });
  });

  describe('mta-sts and tls-rpt', () => {
    it('warns when the MTA-STS policy cannot be fetched', async () => {
      const result = one(await main.run('stsbroken.test'), 'mta-sts');
      expect(result.status).toBe('warn');
      expect(result.summary).toContain('https://mta-sts.stsbroken.test/.well-known/mta-sts.txt cannot be fetched');
    });

    it('warns about an MTA-STS record without a valid id', async () => {
      expect(one(await main.run('stsnoid.test'), 'mta-sts').status).toBe('warn');
    });

    it('skips with a hint when nothing is published', async () => {
      const report = await main.run('nospf.test');
      expect(one(report, 'mta-sts')).toMatchObject({ status: 'skip' });
      expect(one(report, 'tls-rpt').hint).toContain(
        '_smtp._tls.nospf.test. 3600 IN TXT "v=TLSRPTv1; rua=mailto:mailops-reports@nospf.test"'
      );
    });

    it('warns about a TLS-RPT address that is not mailto: or https:', async () => {
      const result = one(await main.run('rptbad.test'), 'tls-rpt');
      expect(result.status).toBe('warn');
      expect(result.summary).toContain('ftp://reports.example/');
    });
  });

  describe('dnsbl', () => {
    it('fails when an address of the host is listed', async () => {
      const result = one(await main.run('good.test', { env: { DNSBL_IP_ZONES: 'ipbl-clean.test,ipbl-listed.test' } }), 'dnsbl');
      expect(result.status).toBe('fail');
      expect(result.summary).toContain('127.0.0.1 is listed on ipbl-listed.test (127.0.0.2)');
      expect(result.fix).toContain('request removal from ipbl-listed.test');
    });

    it('fails when the domain is listed', async () => {
      const result = one(await main.run('listed.test'), 'dnsbl');
      expect(result.status).toBe('fail');
      expect(result.summary).toContain('listed.test is listed on dombl.test (127.0.1.2)');
    });

    it('treats a 127.255.255.x answer as a refusal, not a listing', async () => {
      const result = one(await main.run('good.test', { env: { DNSBL_IP_ZONES: 'ipbl-refusing.test' } }), 'dnsbl');
      expect(result.status).toBe('warn');
      expect(result.summary).toContain('ipbl-refusing.test refused the query (answer 127.255.255.254)');
      expect(result.fix).toContain('DNS_RESOLVER');
    });

    it('reports a list that does not answer as a warning, never as clean', async () => {
      const result = one(await main.run('good.test', { env: { DNSBL_IP_ZONES: 'not-served.test' } }), 'dnsbl');
      expect(result.status).toBe('warn');
      expect(result.summary).toContain('could not query not-served.test');
    });
  });

  describe('tls', () => {
    it('fails when the chain does not verify', async () => {
      const report = await main.run('good.test', { trustLabCertificate: false });
      for (const result of report.checks.filter((entry) => entry.id === 'tls')) {
        expect(result.status).toBe('fail');
        expect(result.summary).toContain('the chain does not verify');
      }
    });

    it('warns when less than a third of the lifetime is left, and fails once expired', async () => {
      const soon = await main.run('good.test', { now: new Date(Date.now() + 70 * 86_400_000) });
      expect(soon.checks.filter((result) => result.id === 'tls').map((result) => result.status)).toEqual(['warn', 'warn', 'warn']);
      expect(soon.checks.find((result) => result.id === 'tls')?.fix).toBe('Renew it now: mailops cert-renew');
      const late = await main.run('good.test', { now: new Date(Date.now() + 91 * 86_400_000) });
      expect(late.checks.find((result) => result.id === 'tls')).toMatchObject({
        status: 'fail',
        fix: 'Renew it: mailops cert-renew --force',
      });
    });
  });

  describe('the command line', () => {
    it("exits 0 with the interface's JSON when nothing fails", async () => {
      const certificateFile = path.join(main.lab.chasquidDir, 'certs', hostname, 'fullchain.pem');
      const run = await runCli(['check', 'good.test', '--json', '--env-file', main.lab.envFile], {
        env: { ...cleanLists, NODE_EXTRA_CA_CERTS: certificateFile },
      });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const body = JSON.parse(run.stdout);
      expect(body).toMatchObject({ domain: 'good.test', ok: true });
      for (const result of body.checks) expect(['pass', 'skip']).toContain(result.status);
      expect(
        body.checks.filter((result: CheckResult) => result.id === 'tls').every((result: CheckResult) => typeof result.port === 'number')
      ).toBe(true);
    });

    it('exits 1 and prints a table with each fix when a check fails', async () => {
      const run = await runCli(['check', 'nospf.test', '--env-file', main.lab.envFile], { env: cleanLists });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^FAIL {2}spf +nospf\.test publishes no SPF record$/m);
      expect(run.stdout).toMatch(/^ +fix: Publish: nospf\.test\. 3600 IN TXT "v=spf1 mx -all"$/m);
      expect(run.stdout).toMatch(/^PASS {2}mx +MX 10 mail\.good\.test \(the mail host\)$/m);
      expect(run.stdout).toContain('Gmail: not met (SPF, DKIM, TLS)');
    });

    it('exits 2 for a domain mailops does not manage', async () => {
      const run = await runCli(['check', 'unknown.test', '--json', '--env-file', main.lab.envFile]);
      expect(run.code).toBe(2);
      expect(JSON.parse(run.stdout).error.code).toBe('domain-not-managed');
    });
  });
});

describe("check of the mail host's addresses and reverse DNS", () => {
  const scenarios: Scenario[] = [];
  const withZones = async (zones: Record<string, string>) => {
    const entry = await scenario({ chasquid: '1.15', domains: ['good.test'], zones });
    scenarios.push(entry);
    return entry.run('good.test');
  };

  afterAll(async () => {
    await stop(scenarios);
  });

  it('fails ptr when an address has no PTR record', async () => {
    const result = one(await withZones({ '127.in-addr.arpa': zone('127.in-addr.arpa', []) }), 'ptr');
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('127.0.0.1 has no PTR record');
    expect(result.fix).toContain('1.0.0.127.in-addr.arpa. 3600 IN PTR mail.good.test.');
  });

  it('fails ptr when the PTR names another host', async () => {
    const result = one(await withZones({ '127.in-addr.arpa': zone('127.in-addr.arpa', ['1.0.0 PTR localhost.']) }), 'ptr');
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('PTR of 127.0.0.1 is localhost, not mail.good.test');
  });

  it('fails mx-address (and ptr) when the hostname has no address', async () => {
    const report = await withZones({ 'good.test': mailZone('good.test', hostname) });
    expect(one(report, 'mx-address')).toMatchObject({
      status: 'fail',
      summary: 'mail.good.test has no A or AAAA record: nobody can connect to it',
    });
    expect(one(report, 'mx-address').fix).toMatch(/^Publish: mail\.good\.test\. 3600 IN A /);
    expect(one(report, 'ptr').status).toBe('fail');
  });

  it("fails mx-address when the hostname points at an address that is not the host's", async () => {
    const report = await withZones({ 'good.test': mailZone('good.test', hostname, { extra: ['mail A 127.0.0.2'] }) });
    const result = one(report, 'mx-address');
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('mail.good.test has 127.0.0.2 (NOT on the mail host)');
  });
});

describe('check of the certificate chasquid serves', () => {
  let entry: Scenario;

  beforeAll(async () => {
    entry = await scenario({ chasquid: '1.15', domains: ['good.test'], zones: { 'good.test': goodZone } });
  });

  afterAll(async () => {
    await stop([entry]);
  });

  const certificateDir = () => path.join(entry.lab.chasquidDir, 'certs', hostname);
  const newCertificate = (name: string) => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '90',
        '-keyout',
        'privkey.pem',
        '-out',
        'fullchain.pem',
        '-subj',
        `/CN=${name}`,
        '-addext',
        `subjectAltName=DNS:${name}`,
      ],
      { cwd: certificateDir(), stdio: 'ignore' }
    );
    return readFileSync(path.join(certificateDir(), 'fullchain.pem'), 'utf8');
  };
  const restart = () =>
    execFileSync(entry.lab.env.CHASQUID_RESTART?.split(' ')[0] ?? '', entry.lab.env.CHASQUID_RESTART?.split(' ').slice(1) ?? []);
  const tlsResults = async (trusted: string) => {
    const config = parseConfig({ ...entry.lab.env, ...cleanLists });
    const report = await check({ host: entry.host, config, now: () => new Date() }, { domain: 'good.test', extraCa: [trusted] });
    return report.checks.filter((result) => result.id === 'tls');
  };

  it('fails when chasquid serves another certificate than the one installed, until it is restarted', async () => {
    const renewed = newCertificate(hostname);
    const stale = await tlsResults(`${entry.certificate}${renewed}`);
    for (const result of stale) {
      expect(result.status).toBe('fail');
      expect(result.summary).toContain(`other than certs/${hostname}/fullchain.pem`);
      expect(result.fix).toBe(`Restart chasquid so that it loads the installed certificate: ${entry.lab.env.CHASQUID_RESTART}`);
    }
    restart();
    expect((await tlsResults(renewed)).map((result) => result.status)).toEqual(['pass', 'pass', 'pass']);
  });

  it('fails when the certificate does not name the hostname', async () => {
    const wrong = newCertificate('other.example');
    restart();
    const results = await tlsResults(wrong);
    expect(results.map((result) => result.status)).toEqual(['fail', 'fail', 'fail']);
    expect(results[0]?.summary).toContain('not mail.good.test');
    expect(results[0]?.fix).toBe('Get a certificate for mail.good.test: mailops cert-renew --force');
  });

  it('fails when nothing listens', async () => {
    writeFileSync(path.join(entry.lab.dir, 'run/stop'), '');
    const pid = entry.lab.chasquidPid();
    process.kill(pid, 'SIGTERM');
    await waitFor('chasquid to exit', () => processGone(pid));
    const results = await tlsResults(entry.certificate);
    expect(results.map((result) => result.status)).toEqual(['fail', 'fail', 'fail']);
    expect(results[0]?.summary).toContain('cannot connect');
    expect(results[0]?.fix).toContain('smtp_address in chasquid.conf');
  });
});

describe('check with DKIM in the 1.11 post-data hook layout', () => {
  let entry: Scenario;

  beforeAll(async () => {
    entry = await scenario({
      chasquid: '1.11',
      domains: ['good.test'],
      zones: { 'good.test': goodZone },
      dkimKeys: [{ domain: 'good.test', selector: 's1', privateKeyPem: good.privateKeyPem }],
    });
  });

  afterAll(async () => {
    await stop([entry]);
  });

  it('finds the selector and key of the hook layout, and passes when they are published — a signed message included', async () => {
    const report = await entry.run('good.test', { probe: true });
    expect(one(report, 'e2e')).toMatchObject({
      status: 'pass',
      summary: 'message from mailops-probe@good.test: DKIM pass (d=good.test, s=s1), SPF pass (127.0.0.1), DMARC pass',
    });
    expect(one(report, 'dkim')).toMatchObject({ status: 'pass', summary: 'selector s1 (RSA 2048) published and matching' });
    expect(report.checks.filter((result) => result.status === 'fail')).toEqual([]);
  });

  it("fails when the hook layout's key is not the published one", async () => {
    const replacement = dkimKey();
    writeFileSync(path.join(entry.lab.chasquidDir, 'certs/good.test/dkim_privkey.pem'), replacement.privateKeyPem);
    const result = one(await entry.run('good.test'), 'dkim');
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('is not the key on the host');
    expect(result.fix?.replace(/" "/g, '')).toContain(/p=([A-Za-z0-9+/=]+)/.exec(replacement.record)?.[1] ?? 'missing');
  });
});

describe('check while DNS does not answer', () => {
  let entry: Scenario;
  let silent: dgram.Socket;
  let closedPort: number;

  beforeAll(async () => {
    entry = await scenario({
      chasquid: '1.15',
      domains: ['good.test'],
      zones: { 'good.test': goodZone },
      dkimKeys: [{ domain: 'good.test', selector: 's1', privateKeyPem: good.privateKeyPem }],
    });
    // A name server that takes every question and never answers: what a frozen Knot looks like to a resolver.
    silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    // And a port where nothing listens any more.
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
    closedPort = closed.address().port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });

  afterAll(async () => {
    silent.close();
    await stop([entry]);
  });

  const dnsBased = ['mx', 'mx-address', 'ptr', 'spf', 'dkim', 'dmarc', 'mta-sts', 'tls-rpt', 'caa', 'dnsbl', 'e2e'];
  const optional = ['mta-sts', 'tls-rpt', 'caa', 'dnsbl'];

  it.each([
    ['does not answer', () => silent.address().port, 'timed out'],
    ['refuses connections', () => closedPort, 'connection refused'],
  ])(
    'reports every DNS-based check as a temperror when the resolver %s, never as a wrong record',
    async (_how, port, reason) => {
      const report = await entry.run('good.test', { probe: true, env: { DNS_RESOLVER: `127.0.0.1:${port()}` } });
      for (const id of dnsBased) {
        const result = one(report, id);
        expect(result, id).toMatchObject({ temperror: true, status: optional.includes(id) ? 'warn' : 'fail' });
        expect(result.summary, id).toMatch(/^could not be checked \(temperror\): /);
        expect(result.summary, id).toContain(reason);
        expect(result.fix, id).toContain('name servers answer');
        expect(result.fix, id).not.toMatch(/ IN (TXT|A|AAAA|MX|PTR|CAA) /);
      }
      // The TLS listeners are configured by address: they need no DNS, and are checked as usual.
      expect(report.checks.filter((result) => result.id === 'tls').map((result) => result.status)).toEqual(['pass', 'pass', 'pass']);
      expect(report.ok).toBe(false);
    },
    60_000
  );
});
