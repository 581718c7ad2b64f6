// Each check as gather-then-evaluate: gather its inputs from the shared facts (I/O), hand them to the pure evaluation
// of its module. Every check starts at once; what one check needs from another's lookups it gets from the shared
// facts and the resolver's cache, so the run takes as long as its deepest chain of dependent lookups.

import { isIP } from 'node:net';
import { authenticate } from 'mailauth';
import { fetchPolicy } from 'mailauth/lib/mta-sts.js';
import { probeTls } from '../acme/served-certificate.ts';
import { dkimRecordName } from '../chasquid/dkim-key.ts';
import { tlsListeners, type Listener } from '../chasquid/listeners.ts';
import { joinTxt } from '../dns/txt.ts';
import { asMailopsError } from '../errors.ts';
import { probeSenderLocal } from '../probe/names.ts';
import { sendProbe, type CapturedMessage } from '../probe/probe.ts';
import { caaIdentities, evaluateCaa } from './caa.ts';
import { evaluateDkim } from './dkim.ts';
import { evaluateDmarc, externalReportDomains, isDmarcRecord, parseDmarc } from './dmarc.ts';
import { dnsblQueryName, evaluateDnsbl } from './dnsbl.ts';
import { evaluateE2e, verdictsOf } from './e2e.ts';
import type { CheckFacts } from './facts.ts';
import { evaluateMtaSts, evaluateTlsRpt, type MtaStsInput } from './mta-sts.ts';
import { evaluateMxAddress } from './mx-address.ts';
import { evaluateMx } from './mx.ts';
import { evaluatePtr } from './ptr.ts';
import { couldNotCheck, needsHostResult, temperrorResult, type CheckId, type CheckResult } from './result.ts';
import { spfResult, type SpfPolicyInput } from './spf-policy.ts';
import { evaluateTls } from './tls.ts';

type Runner = (facts: CheckFacts) => Promise<CheckResult | CheckResult[]>;

async function mx(facts: CheckFacts): Promise<CheckResult> {
  const [{ hostname }, answer] = await Promise.all([facts.settings(), facts.mx()]);
  return evaluateMx({ domain: facts.domain, hostname, mx: answer });
}

async function mxAddress(facts: CheckFacts): Promise<CheckResult> {
  const [{ hostname, a, aaaa }, addresses, interfaces] = await Promise.all([
    facts.hostnameAddresses(),
    facts.hostAddresses(),
    facts.interfaces(),
  ]);
  return evaluateMxAddress({ hostname, a, aaaa, addresses, interfaces });
}

async function ptr(facts: CheckFacts): Promise<CheckResult> {
  const [{ hostname, a, aaaa }, addresses, unknown] = await Promise.all([
    facts.hostnameAddresses(),
    facts.sendingAddresses(),
    facts.addressesUnknown('ptr'),
  ]);
  if (unknown) return unknown;
  const answers = await Promise.all(addresses.map(async (address) => ({ address, ptr: await facts.env.dns.reverse(address.address) })));
  return evaluatePtr({ hostname, addresses: answers, forward: { 4: a, 6: aaaa } });
}

async function spfCheck(facts: CheckFacts): Promise<CheckResult> {
  const { dns } = facts.env;
  const domain = facts.domain;
  const lookup: SpfPolicyInput['lookup'] = (name, type) => dns.lookup(name, type);
  const [txt, { hostname }, addresses, mxAnswer, unknown] = await Promise.all([
    dns.lookup(domain, 'TXT'),
    facts.settings(),
    facts.sendingAddresses(),
    facts.mx(),
    facts.addressesUnknown('spf'),
  ]);
  if (unknown && txt.status !== 'temperror') return unknown;
  const mxIsHost =
    mxAnswer.status === 'ok' && mxAnswer.records.some((record) => record.exchange.toLowerCase().replace(/\.$/, '') === hostname);
  return spfResult({ domain, hostname, txt, addresses, mxIsHost }, lookup);
}

async function dkim(facts: CheckFacts): Promise<CheckResult> {
  const setup = await facts.dkimSetup();
  const answers = await Promise.all(
    setup.keys.map(async (key) => [key.selector, await facts.lookup(dkimRecordName(key.selector, facts.domain), 'TXT')] as const)
  );
  return evaluateDkim({ domain: facts.domain, setup, records: Object.fromEntries(answers) });
}

async function dmarc(facts: CheckFacts): Promise<CheckResult> {
  const domain = facts.domain;
  const txt = await facts.lookup(`_dmarc.${domain}`, 'TXT');
  const texts = txt.status === 'ok' ? txt.records.map(joinTxt).filter(isDmarcRecord) : [];
  const external = texts.length === 1 ? externalReportDomains(domain, parseDmarc(texts[0] ?? '')) : [];
  const authorisations = await Promise.all(
    external.map(async ({ authorisationName }) => [authorisationName, await facts.lookup(authorisationName, 'TXT')] as const)
  );
  return evaluateDmarc({
    domain,
    txt,
    authorisations: Object.fromEntries(authorisations),
    ...(facts.env.reportLocal ? { reportAddress: `${facts.env.reportLocal}@${domain}` } : {}),
  });
}

async function mtaSts(facts: CheckFacts): Promise<CheckResult> {
  const domain = facts.domain;
  // The policy host's address is independent of the TXT record: ask for both at once.
  void facts.lookup(`mta-sts.${domain}`, 'A');
  const [txt, { hostname }] = await Promise.all([facts.lookup(`_mta-sts.${domain}`, 'TXT'), facts.settings()]);
  const published = txt.status === 'ok' && txt.records.map(joinTxt).filter((text) => /^v=STSv1\s*;/i.test(text.trim())).length === 1;
  let policy: MtaStsInput['policy'];
  if (published) {
    try {
      const fetched = await fetchPolicy(domain, { resolver: facts.env.dns.forMailauth, timeout: 8000 });
      policy = fetched === false ? { error: `mta-sts.${domain} has no address` } : { policy: fetched };
    } catch (error) {
      policy = { error: (error as Error).message };
    }
  }
  return evaluateMtaSts({ domain, hostname, txt, policy });
}

async function tlsRpt(facts: CheckFacts): Promise<CheckResult> {
  return evaluateTlsRpt({
    domain: facts.domain,
    txt: await facts.lookup(`_smtp._tls.${facts.domain}`, 'TXT'),
    ...(facts.env.reportLocal ? { reportAddress: `${facts.env.reportLocal}@${facts.domain}` } : {}),
  });
}

/** The addresses of a listener, or the result of a lookup that failed. */
async function addressesOf(facts: CheckFacts, endpoint: Listener, hostname: string): Promise<string[] | CheckResult> {
  if (isIP(endpoint.host) !== 0) return [endpoint.host];
  if (endpoint.host === hostname) {
    return (
      (await facts.addressesUnknown('tls')) ??
      (await facts.hostAddresses()).filter((address) => address.inDns).map((address) => address.address)
    );
  }
  const [a, aaaa] = await Promise.all([facts.lookup(endpoint.host, 'A'), facts.lookup(endpoint.host, 'AAAA')]);
  if (a.status === 'temperror') return temperrorResult('tls', a, endpoint.host, 'A');
  if (aaaa.status === 'temperror') return temperrorResult('tls', aaaa, endpoint.host, 'AAAA');
  return [...(a.status === 'ok' ? a.records : []), ...(aaaa.status === 'ok' ? aaaa.records : [])];
}

async function tls(facts: CheckFacts): Promise<CheckResult[]> {
  const { settings, hostname } = await facts.settings();
  const endpoints = tlsListeners(settings, hostname);
  return Promise.all(
    endpoints.map(async (endpoint) => {
      const [addresses, installed] = await Promise.all([addressesOf(facts, endpoint, hostname), facts.installedCertificates()]);
      if (!Array.isArray(addresses)) return { ...addresses, port: endpoint.port, service: endpoint.service };
      const probes = await Promise.all(
        addresses.map(async (address) => ({
          address,
          probe: await probeTls({
            address,
            port: endpoint.port,
            mode: endpoint.mode,
            servername: hostname,
            ...(facts.env.extraCa ? { extraCa: facts.env.extraCa } : {}),
          }),
        }))
      );
      return evaluateTls({ endpoint, hostname, probes, installed, now: facts.env.now, restartCommand: facts.env.restartCommand });
    })
  );
}

async function dnsbl(facts: CheckFacts): Promise<CheckResult> {
  const zones = facts.env.dnsblZones;
  const domainQueries = zones.domain.map((zone) => ({ subject: facts.domain, zone }));
  const unknown = await facts.addressesUnknown('dnsbl');
  if (unknown) return unknown;
  const addresses = (await facts.sendingAddresses()).map((address) => address.address);
  const ipQueries = addresses.flatMap((address) => zones.ip.map((zone) => ({ subject: address, zone })));
  const queries = await Promise.all(
    [...domainQueries, ...ipQueries].map(async (query) => ({
      ...query,
      answer: await facts.lookup(dnsblQueryName(query.subject, query.zone), 'A'),
    }))
  );
  return evaluateDnsbl({ queries, subjects: [...addresses, facts.domain], zones });
}

async function e2e(facts: CheckFacts): Promise<CheckResult> {
  const { probe } = facts.env;
  if (probe === undefined) {
    return {
      id: 'e2e',
      status: 'skip',
      summary: 'no test message sent (this caller gave no state database for the probe sender)',
      hint: `Run mailops check ${facts.domain}`,
    };
  }
  const [{ hostname }, addresses, unknown] = await Promise.all([facts.settings(), facts.sendingAddresses(), facts.addressesUnknown('e2e')]);
  if (unknown) return unknown;
  const ip = (addresses.find((address) => address.family === 4) ?? addresses[0])?.address;
  const sender = `${probeSenderLocal}@${facts.domain}`;
  if (ip === undefined) {
    return {
      id: 'e2e',
      status: 'fail',
      summary: 'no address of the mail host is known, so SPF cannot be evaluated',
      fix: 'Fix the mx-address check first',
    };
  }
  let captured: CapturedMessage;
  try {
    captured = await sendProbe(probe.context, facts.domain);
  } catch (error) {
    const failure = asMailopsError(error);
    return evaluateE2e({
      domain: facts.domain,
      sender,
      ip,
      outcome: { failed: failure.message, fix: failure.hint ?? 'Run the check again; the log has the details.' },
    });
  }
  const result = await authenticate(captured.raw, {
    ip,
    helo: captured.helo,
    sender: captured.sender,
    mta: hostname,
    resolver: facts.env.dns.forMailauth,
  });
  return evaluateE2e({ domain: facts.domain, sender: captured.sender, ip, outcome: { verdicts: verdictsOf(result) } });
}

async function caa(facts: CheckFacts): Promise<CheckResult> {
  const labels = facts.domain.split('.');
  // The domain and each parent up to (not including) the top-level domain: RFC 8659's climb, nearest first.
  const names = labels.slice(0, -1).map((_, index) => labels.slice(index).join('.'));
  const answers = await Promise.all(names.map(async (name) => ({ name, answer: await facts.lookup(name, 'CAA') })));
  const acme = facts.env.acme ?? { directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory' };
  return evaluateCaa({
    domain: facts.domain,
    answers,
    directoryUrl: acme.directoryUrl,
    identities: caaIdentities(acme.directoryUrl),
    ...(acme.accountUri === undefined ? {} : { accountUri: acme.accountUri }),
  });
}

/** Every check, in report order. */
export const checkRunners: Array<{ id: CheckId; run: Runner }> = [
  { id: 'mx', run: mx },
  { id: 'mx-address', run: mxAddress },
  { id: 'ptr', run: ptr },
  { id: 'spf', run: spfCheck },
  { id: 'dkim', run: dkim },
  { id: 'dmarc', run: dmarc },
  { id: 'mta-sts', run: mtaSts },
  { id: 'tls-rpt', run: tlsRpt },
  { id: 'tls', run: tls },
  { id: 'caa', run: caa },
  { id: 'dnsbl', run: dnsbl },
  { id: 'e2e', run: e2e },
];

/**
 * Runs one check; a failure to gather its facts is its result, not a crash of the report. When that failure is the
 * mail host's (the same error the host's facts failed with: it could not be reached), the result only says that the
 * check needs the host — the report states the error once (CheckReport.hostError).
 */
export async function runCheck(id: CheckId, run: Runner, facts: CheckFacts): Promise<CheckResult[]> {
  try {
    const result = await run(facts);
    return Array.isArray(result) ? result : [result];
  } catch (error) {
    const failure = asMailopsError(error);
    const hostFailure = await facts.hostFailure();
    if (hostFailure !== undefined && hostFailure.code === failure.code) return [needsHostResult(id)];
    return [
      {
        id,
        status: 'fail',
        temperror: true,
        summary: couldNotCheck(failure.message),
        fix: failure.hint ?? 'Run the check again; the log has the details.',
      },
    ];
  }
}
