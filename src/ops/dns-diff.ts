// `dns-diff <domain> [--accept]` and the dns-drift job: the records a mail domain depends on, what they should be
// (dns/drift.ts: the accepted state and the invariants the mail host implies), and what DNS answers now.
//
// The records looked at: the domain's MX; the A and AAAA of chasquid's hostname; the domain's SPF record; the DKIM key
// of each selector chasquid signs with; the DMARC record; the PTR of each address the host sends from. Everything is
// asked through the checks' shared facts and caching resolver (checks/facts.ts), so a job over many domains reads the
// host's configuration once and asks each DNS question once.
//
// The first time a record is seen its answer becomes its accepted state. `--accept` replaces the whole accepted state
// with the current answers (a change: audited) — after which only broken invariants remain as drift. An answer that
// breaks an invariant (an SPF record that does not authorise the host, an MX that does not name it) is never
// accepted, on first sight or by --accept: it stays a contradiction until the record is fixed, and the fixed record is
// then what was expected all along, not drift. Read-only otherwise.

import { dkimRecordName, dkimRecordValue } from '../chasquid/dkim-key.ts';
import { parseDkimRecord } from '../checks/dkim.ts';
import { CheckFacts } from '../checks/facts.ts';
import { mailHostAddresses, type HostAddress } from '../checks/host-addresses.ts';
import { checkHost } from '../checks/spf-evaluate.ts';
import { isSpfRecord } from '../checks/spf-record.ts';
import { recommendedSpf } from '../checks/spf.ts';
import { DnsResolver, reverseName } from '../dns/caching-resolver.ts';
import {
  acceptedState,
  addressValue,
  findDrift,
  mxExchange,
  mxValue,
  nameValue,
  observe,
  txtValue,
  withFirstSeen,
  type DriftEntry,
  type Invariant,
  type ObservedRecord,
} from '../dns/drift.ts';
import { failedError } from '../errors.ts';
import { dnsSnapshot, saveDnsSnapshot } from '../store/dns-snapshots.ts';
import { managedDomain } from '../validation/domain.ts';
import { recordDone } from './change.ts';
import { managedDomains, type OperationContext } from './context.ts';
import { orphanRecords, type OrphanRecord } from './orphan-records.ts';

export interface DnsDiffInput {
  domain: string;
  /** Record the current answers as the accepted state. */
  accept?: boolean;
  /** A resolver shared by several domains (the dns-drift job); a new one through DNS_RESOLVER by default. */
  resolver?: DnsResolver;
  /** Facts about the mail host shared by several domains (see CheckEnvironment.hostFacts). */
  hostFacts?: Map<string, Promise<unknown>>;
  /** Look for orphan records too (default: yes, unless host facts are shared — the dns-drift job over many domains). */
  orphans?: boolean;
}

export interface DnsDiffResult {
  domain: string;
  drift: DriftEntry[];
  /** Records whose lookup failed, so that they could not be compared. */
  unknown: Array<{ name: string; type: string; error: string }>;
  /** When and by whom the accepted state was recorded. */
  accepted: { at: string; by: string };
  /**
   * This run recorded the current answers as the accepted state (--accept) — those that agree with the mail host;
   * the others are the drift entries with `contradiction: true`.
   */
  acceptedNow: boolean;
  /** How many record sets were compared. */
  records: number;
  hostname: string;
  /**
   * DKIM and ACME challenge records mailops made that nothing uses any more (orphan-records.ts). Not drift: listed so
   * that they can be removed with dkim-retire --prune.
   */
  orphans: OrphanRecord[];
}

const dmarcText = (value: string) => /^v\s*=\s*DMARC1\s*(;|$)/.test(value.trim());

interface Gathered {
  observed: ObservedRecord[];
  invariants: Invariant[];
  hostname: string;
  /** Selectors chasquid signs with. */
  signing: string[];
}

/** Looks up every record of the domain and evaluates the invariants that do not depend on the accepted state. */
async function gather(facts: CheckFacts): Promise<Gathered> {
  const domain = facts.domain;
  const dns = facts.env.dns;
  const [{ hostname }, mx, txt, dmarc, dkim, { a, aaaa }, addresses, interfaces] = await Promise.all([
    facts.settings(),
    facts.mx(),
    facts.lookup(domain, 'TXT'),
    facts.lookup(`_dmarc.${domain}`, 'TXT'),
    facts.dkimSetup(),
    facts.hostnameAddresses(),
    facts.hostAddresses(),
    facts.interfaces(),
  ]);
  const sending = addresses.filter((address) => address.onHost !== false);
  const observed: ObservedRecord[] = [
    observe(domain, 'MX', mx, mxValue),
    observe(hostname, 'A', a, addressValue),
    observe(hostname, 'AAAA', aaaa, addressValue),
    observe(domain, 'TXT', txt, txtValue, isSpfRecord),
    observe(`_dmarc.${domain}`, 'TXT', dmarc, txtValue, dmarcText),
  ];
  const invariants: Invariant[] = [];

  const mxRecord = observed[0] as ObservedRecord;
  invariants.push({
    name: domain,
    type: 'MX',
    holds: (mxRecord.values ?? []).some((value) => mxExchange(value) === hostname),
    expected: [`10 ${hostname}.`],
    reason: `no MX record names the mail host ${hostname}`,
  });

  for (const [family, type] of [
    [4, 'A'],
    [6, 'AAAA'],
  ] as const) {
    const foreign = addresses.filter((address) => address.family === family && address.inDns && address.onHost === false);
    const own = (interfaces === undefined ? [] : mailHostAddresses([], interfaces))
      .filter((address) => address.family === family)
      .map((address) => address.address);
    invariants.push({
      name: hostname,
      type,
      holds: foreign.length === 0,
      expected:
        own.length > 0
          ? own
          : addresses.filter((address) => address.family === family && address.onHost !== false).map((address) => address.address),
      reason: `${foreign.map((address) => address.address).join(', ')} ${foreign.length === 1 ? 'is not an address' : 'are not addresses'} of the mail host`,
    });
  }

  const spfValues = observed[3]?.values;
  if (spfValues !== undefined)
    invariants.push(
      await spfInvariant(facts, {
        hostname,
        sending,
        spfValues,
        mxIsHost: mxRecord.values?.some((value) => mxExchange(value) === hostname) ?? false,
      })
    );

  const [dkimAnswers, ptrAnswers] = await Promise.all([
    Promise.all(dkim.keys.map(async (key) => ({ key, answer: await facts.lookup(dkimRecordName(key.selector, domain), 'TXT') }))),
    Promise.all(sending.map(async (address) => ({ address, answer: await dns.reverse(address.address) }))),
  ]);
  for (const { key, answer } of dkimAnswers) {
    const name = dkimRecordName(key.selector, domain);
    const record = observe(name, 'TXT', answer, txtValue);
    observed.push(record);
    if (key.publicKey === undefined || record.values === undefined) continue;
    const expected = dkimRecordValue(key.publicKey);
    const published = record.values.map((value) => parseDkimRecord(value).get('p') ?? '');
    invariants.push({
      name,
      type: 'TXT',
      holds: published.length === 1 && published[0] === key.publicKey.p,
      expected: [expected],
      reason:
        published.length > 1
          ? `${published.length} key records are published for selector ${key.selector}`
          : `the key of selector ${key.selector}, which chasquid signs with, is not the one published`,
    });
  }
  for (const { address, answer } of ptrAnswers) {
    const name = reverseName(address.address);
    const record = observe(name, 'PTR', answer, nameValue);
    observed.push(record);
    invariants.push({
      name,
      type: 'PTR',
      holds: (record.values ?? []).includes(`${hostname}.`),
      expected: [`${hostname}.`],
      reason: `the PTR of ${address.address} does not name the mail host ${hostname}`,
    });
  }
  return { observed, invariants, hostname, signing: dkim.keys.map((key) => key.selector) };
}

/**
 * SPF authorises every address the host sends from, with exactly one record: check_host() of RFC 7208 for each
 * address, the same evaluation as the spf check's (spf-evaluate.ts).
 */
async function spfInvariant(
  facts: CheckFacts,
  input: { hostname: string; sending: HostAddress[]; spfValues: string[]; mxIsHost: boolean }
): Promise<Invariant> {
  const domain = facts.domain;
  const expected = [recommendedSpf({ hostname: input.hostname, addresses: input.sending, mxIsHost: input.mxIsHost })];
  if (input.spfValues.length !== 1) {
    return {
      name: domain,
      type: 'TXT',
      holds: false,
      expected,
      reason:
        input.spfValues.length === 0 ? `${domain} publishes no SPF record` : `${domain} publishes ${input.spfValues.length} SPF records`,
    };
  }
  const results = await Promise.all(
    input.sending.map(async ({ address }) => {
      const evaluation = await checkHost({ ip: address, domain, sender: `postmaster@${domain}`, helo: input.hostname }, (name, type) =>
        facts.env.dns.lookup(name, type)
      );
      return { address, result: evaluation.result };
    })
  );
  // A lookup that failed is not a verdict (the record itself was answered; what it refers to was not).
  const refused = results.filter((entry) => entry.result !== 'pass' && entry.result !== 'temperror');
  return {
    name: domain,
    type: 'TXT',
    holds: refused.length === 0,
    expected,
    reason: `the SPF record does not authorise ${refused.map((entry) => `${entry.address} (${entry.result})`).join(', ')}`,
  };
}

export async function dnsDiff(context: OperationContext, input: DnsDiffInput): Promise<DnsDiffResult> {
  const domain = managedDomain(input.domain, managedDomains(context.config));
  const facts = new CheckFacts({
    domain,
    dns: input.resolver ?? new DnsResolver({ server: context.config.DNS_RESOLVER }),
    host: context.host,
    chasquidDir: context.chasquidDir,
    now: context.now(),
    dnsblZones: { ip: [], domain: [] },
    restartCommand: context.config.CHASQUID_RESTART.join(' '),
    ...(input.hostFacts ? { hostFacts: input.hostFacts } : {}),
  });
  const { observed, invariants, hostname, signing } = await gather(facts);
  const orphans = (input.orphans ?? input.hostFacts === undefined) ? await orphanRecords(context, domain, signing) : [];
  const unknown = observed
    .filter((record) => record.values === undefined)
    .map((record) => ({ name: record.name, type: record.type, error: record.error ?? 'lookup failed' }));
  const now = context.now().toISOString();
  let snapshot = dnsSnapshot(context.database, domain);
  if (input.accept) {
    if (unknown.length > 0) {
      throw failedError(
        'dns-lookup-failed',
        `Cannot accept the DNS state of ${domain}: ${unknown.length} lookup${unknown.length === 1 ? '' : 's'} failed (${unknown[0]?.error}).`,
        { hint: 'Nothing was accepted. Make sure the name servers answer, then run it again.' }
      );
    }
    const { records, refused } = acceptedState(observed, invariants, snapshot?.records);
    snapshot = { domain, records, acceptedAt: now, acceptedBy: context.actor };
    saveDnsSnapshot(context.database, snapshot);
    const notAccepted =
      refused.length === 0
        ? ''
        : `; not accepted, because ${refused.length === 1 ? 'it contradicts' : 'they contradict'} the mail host: ${refused.map((record) => `${record.name} ${record.type}`).join(', ')}`;
    recordDone(
      context,
      { operation: 'dns-diff', target: domain },
      `accepted ${observed.length - refused.length} record sets${notAccepted}`
    );
  } else {
    const { records, added } = withFirstSeen(snapshot?.records ?? {}, observed, invariants);
    if (snapshot === undefined || added > 0) {
      snapshot = {
        domain,
        records,
        acceptedAt: snapshot?.acceptedAt ?? now,
        acceptedBy: snapshot?.acceptedBy ?? `${context.actor} (first seen)`,
      };
      saveDnsSnapshot(context.database, snapshot);
    }
  }
  return {
    domain,
    drift: findDrift(observed, snapshot.records, invariants),
    unknown,
    accepted: { at: snapshot.acceptedAt, by: snapshot.acceptedBy },
    acceptedNow: input.accept === true,
    records: observed.length,
    hostname,
    orphans,
  };
}
