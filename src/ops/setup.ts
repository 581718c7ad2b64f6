// `setup <domain> [--forward-to <address>] [--sender <address>]`: from a fresh chasquid and an empty zone to a passing
// check, in one command. First a plan (planSetup: each step, each DNS record to add or change with its old and new
// value), shown as the confirmation question; then, in order, each step done through the ordinary operations, each
// idempotent and reported `done`, `unchanged` or `needs-you`:
//
//   dns          MX, SPF, DMARC (reports to postmaster@), TLS-RPT, and A/AAAA of chasquid's hostname when it is in the
//                domain's zone and has none — merged, never clobbered: an SPF that does not authorise the host gains
//                the host's terms (keeping its includes; refused beyond 10 lookups), a valid DMARC and a TLS-RPT are
//                kept, an MX naming another host is left to the operator. CAA (RFC 8659) for the CA of ACME_DIRECTORY,
//                when mailops knows its CAA identity: the record the `caa` check recommends when the domain and its
//                parents have none; beside the operator's records when they allow other CAs only (never removing one).
//                Through DNS_PROVIDER=rfc2136; with another provider the records are listed for the operator
//                (needs-you).
//   domain       the domain directory (ensureDomainDirectory; a running chasquid is restarted to load it).
//   certificate  cert-renew when due: a fresh chasquid has none and does not run (it also needs a domain), so it
//                comes before anything else that restarts chasquid; installing it starts chasquid.
//   sender       with --sender, user-add: the generated password is in the result once, never in the audit or log.
//   aliases      postmaster and abuse (RFC 2142) to --forward-to, else to the sender; without either: needs-you.
//   catch-all    with --forward-to, `*@domain` to it; an existing catch-all elsewhere is left (needs-you).
//   dkim         dkim-rotate when no key signs.
// Then `check`, with what remains the operator's (reverse DNS values, port 25), and the DNS answers recorded as the
// accepted state for dns-diff and the drift job.

import type { CaaRecord } from 'node:dns';
import path from 'node:path';
import { daemonState, restartDaemon } from '../chasquid/daemon.ts';
import { dkimRecordName } from '../chasquid/dkim-key.ts';
import { DomainFiles } from '../chasquid/domain-files.ts';
import { caaIdentities, evaluateCaa, recommendedCaa } from '../checks/caa.ts';
import { parseDmarc, isDmarcRecord } from '../checks/dmarc.ts';
import { CheckFacts } from '../checks/facts.ts';
import type { HostAddress } from '../checks/host-addresses.ts';
import { checkHost, maxLookups } from '../checks/spf-evaluate.ts';
import { isSpfRecord } from '../checks/spf-record.ts';
import { recommendedSpf } from '../checks/spf.ts';
import { DnsResolver, reverseName, type DnsAnswer } from '../dns/caching-resolver.ts';
import { addressValue, mxExchange, mxValue } from '../dns/drift.ts';
import { ManualPublisher } from '../dns/manual.ts';
import type { RecordPublishing } from '../dns/publisher.ts';
import { Rfc2136Publisher } from '../dns/rfc2136.ts';
import { joinTxt, zoneLine } from '../dns/txt.ts';
import type { UpdateChange, UpdateRecordType } from '../dns/update-message.ts';
import { failedError } from '../errors.ts';
import { acmeAccount } from '../store/renewal-info.ts';
import { parseManagedAddress, parseTarget } from '../validation/address.ts';
import { managedDomain } from '../validation/domain.ts';
import { listAliases, setAlias } from './aliases.ts';
import { certRenew } from './cert-renew.ts';
import { applyChange, recordDone } from './change.ts';
import { check, type CheckReport } from './check.ts';
import { managedDomains, type OperationContext } from './context.ts';
import { dkimRotate } from './dkim-rotate.ts';
import { dkimShow } from './dkim-show.ts';
import { dnsDiff } from './dns-diff.ts';
import { ensureReportInboxes } from './report-inbox.ts';
import { addSender, listSenders } from './senders.ts';

export interface SetupInput {
  domain: string;
  /** Where postmaster, abuse and the catch-all forward (a personal mailbox). */
  forwardTo?: string;
  /** The first sender to create. */
  sender?: string;
}

export interface SetupRunInput extends SetupInput {
  publishing: () => RecordPublishing;
  progress?: (text: string) => Promise<void> | void;
}

/** One DNS record set of the plan: what DNS answers now and what setup publishes (`new` empty: nothing). */
export interface PlannedRecord {
  name: string;
  type: UpdateRecordType;
  action: 'add' | 'change' | 'keep' | 'needs-you';
  old: string[];
  new: string[];
  /** Why, in a few words. */
  reason: string;
}

export type StepId = 'dns' | 'certificate' | 'domain' | 'sender' | 'aliases' | 'catch-all' | 'reports' | 'dkim';
export const stepOrder: readonly StepId[] = ['dns', 'domain', 'certificate', 'sender', 'aliases', 'catch-all', 'reports', 'dkim'];

export interface SetupPlan {
  domain: string;
  hostname: string;
  records: PlannedRecord[];
  /** What each step will do, a sentence each, in the order they run. */
  steps: Array<{ id: StepId; plan: string }>;
}

export interface SetupStep {
  id: StepId;
  status: 'done' | 'unchanged' | 'needs-you';
  detail: string;
}

export interface SetupResult {
  domain: string;
  hostname: string;
  ok: boolean;
  plan: SetupPlan;
  steps: SetupStep[];
  /** The sender's generated password: shown once (Discord: only in the invoker's private reply). */
  password?: { address: string; password: string };
  check: CheckReport;
  /** What is still the operator's to do, a sentence each (reverse DNS at the provider, port 25). */
  remaining: string[];
}

const recordTtl = 3600;

const spfTerms = (record: string) => record.trim().split(/\s+/);
const isAll = (term: string) => /^[+~?-]?all$/i.test(term);

/** The record with `terms` inserted before its `all` (or redirect, or at the end): its own terms all stay. */
export function mergedSpf(record: string, terms: readonly string[]): string {
  const parts = spfTerms(record);
  const missing = terms.filter((term) => !parts.some((part) => part.toLowerCase() === term.toLowerCase()));
  const allIndex = parts.findIndex(isAll);
  const redirectIndex = parts.findIndex((part) => /^redirect=/i.test(part));
  const at = allIndex >= 0 ? allIndex : redirectIndex >= 0 ? redirectIndex : parts.length;
  return [...parts.slice(0, at), ...missing, ...parts.slice(at)].join(' ');
}

function answerValues<T>(answer: DnsAnswer<T>, value: (record: T) => string): string[] | undefined {
  if (answer.status === 'temperror') return undefined;
  return answer.status === 'ok' ? [...new Set(answer.records.map(value))].sort() : [];
}

function lookupFailed(name: string, type: string, answer: DnsAnswer<unknown>): never {
  const message = answer.status === 'temperror' ? answer.message : 'no answer';
  throw failedError(
    'dns-lookup-failed',
    `Cannot plan the set-up: the lookup of ${name} ${type} failed (${message}). Nothing was changed.`,
    {
      hint: 'Make sure DNS_RESOLVER answers for the domain, then run setup again.',
    }
  );
}

function facts(context: OperationContext, domain: string, resolver: DnsResolver): CheckFacts {
  return new CheckFacts({
    domain,
    dns: resolver,
    host: context.host,
    chasquidDir: context.chasquidDir,
    now: context.now(),
    dnsblZones: { ip: [], domain: [] },
    restartCommand: context.config.CHASQUID_RESTART.join(' '),
  });
}

/** Whether `name` lies in the zone of `domain` (the domain itself or below it). */
const inZone = (name: string, domain: string) => name === domain || name.endsWith(`.${domain}`);

async function planRecords(
  context: OperationContext,
  domain: string,
  resolver: DnsResolver
): Promise<{ hostname: string; records: PlannedRecord[] }> {
  const known = facts(context, domain, resolver);
  const [{ hostname }, mx, txt, dmarc, tlsRpt, { a, aaaa }, addresses] = await Promise.all([
    known.settings(),
    known.mx(),
    known.lookup(domain, 'TXT'),
    known.lookup(`_dmarc.${domain}`, 'TXT'),
    known.lookup(`_smtp._tls.${domain}`, 'TXT'),
    known.hostnameAddresses(),
    known.hostAddresses(),
  ]);
  const records: PlannedRecord[] = [];

  // The hostname's addresses: only in our zone, only when it has none (another zone, or addresses there, are kept).
  const sending: HostAddress[] = addresses.filter((address) => address.onHost !== false);
  for (const [type, answer, family] of [
    ['A', a, 4],
    ['AAAA', aaaa, 6],
  ] as const) {
    const old = answerValues(answer, addressValue) ?? lookupFailed(hostname, type, answer);
    const own = sending.filter((address) => address.family === family).map((address) => addressValue(address.address));
    if (old.length > 0 || own.length === 0) {
      if (old.length > 0 || family === 4)
        records.push({
          name: hostname,
          type,
          action: old.length > 0 ? 'keep' : 'needs-you',
          old,
          new: [],
          reason: old.length > 0 ? 'the hostname has its addresses' : `no ${type} record, and the mail host's public address is not known`,
        });
      continue;
    }
    if (!inZone(hostname, domain)) {
      records.push({
        name: hostname,
        type,
        action: 'needs-you',
        old,
        new: own,
        reason: `${hostname} is not in the zone of ${domain}: publish it where it is`,
      });
      continue;
    }
    records.push({ name: hostname, type, action: 'add', old, new: own, reason: "the mail host's addresses" });
  }

  const mxOld = answerValues(mx, mxValue) ?? lookupFailed(domain, 'MX', mx);
  const mxIsHost = mxOld.some((value) => mxExchange(value) === hostname);
  if (mxIsHost) records.push({ name: domain, type: 'MX', action: 'keep', old: mxOld, new: [], reason: 'names the mail host' });
  else if (mxOld.length > 0)
    records.push({
      name: domain,
      type: 'MX',
      action: 'needs-you',
      old: mxOld,
      new: [`10 ${hostname}.`],
      reason: 'names another host: replacing it moves your incoming mail, so it is yours to decide',
    });
  else
    records.push({
      name: domain,
      type: 'MX',
      action: 'add',
      old: [],
      new: [`10 ${hostname}.`],
      reason: 'mail for the domain goes to the mail host',
    });

  const txtValues = answer(txt, domain, 'TXT');
  const spfOld = txtValues.filter(isSpfRecord);
  const recommended = recommendedSpf({ hostname, addresses: sending, mxIsHost: true });
  if (spfOld.length === 0)
    records.push({ name: domain, type: 'TXT', action: 'add', old: [], new: [recommended], reason: 'SPF: the mail host may send' });
  else if (spfOld.length > 1)
    records.push({
      name: domain,
      type: 'TXT',
      action: 'needs-you',
      old: spfOld,
      new: [],
      reason: `${spfOld.length} SPF records: receivers ignore them all; merge them into one`,
    });
  else {
    const existing = spfOld[0] as string;
    const merged = mergedSpf(existing, recommended.split(' ').slice(1, -1));
    const mxValues = mxIsHost || mxOld.length > 0 ? mxOld : [`10 ${hostname}.`];
    // Evaluated as receivers will, with the merged record and the MX the plan publishes.
    const evaluate = async (record: string) =>
      Promise.all(
        sending.map((address) =>
          checkHost({ ip: address.address, domain, sender: `postmaster@${domain}`, helo: hostname }, (name, type) => {
            if (name === domain && type === 'TXT') return Promise.resolve({ status: 'ok', records: [[record]] } as never);
            if (name === domain && type === 'MX')
              return Promise.resolve({
                status: 'ok',
                records: mxValues.map((value) => ({ priority: Number(value.split(' ')[0]), exchange: mxExchange(value) })),
              } as never);
            return resolver.lookup(name, type);
          })
        )
      );
    const now = await evaluate(existing);
    if (now.every((evaluation) => evaluation.result === 'pass'))
      records.push({ name: domain, type: 'TXT', action: 'keep', old: spfOld, new: [], reason: 'SPF already authorises the mail host' });
    else {
      const after = await evaluate(merged);
      const lookups = Math.max(0, ...after.map((evaluation) => evaluation.lookups));
      if (lookups > maxLookups || after.some((evaluation) => evaluation.result !== 'pass'))
        records.push({
          name: domain,
          type: 'TXT',
          action: 'needs-you',
          old: spfOld,
          new: [merged],
          reason:
            lookups > maxLookups
              ? `SPF with the mail host added needs ${lookups} DNS lookups (at most ${maxLookups}): flatten an include`
              : 'SPF with the mail host added still does not authorise it',
        });
      else
        records.push({
          name: domain,
          type: 'TXT',
          action: 'change',
          old: spfOld,
          new: [merged],
          reason: 'SPF gains the mail host, keeping its other terms',
        });
    }
  }

  const dmarcName = `_dmarc.${domain}`;
  const dmarcOld = answer(dmarc, dmarcName, 'TXT').filter(isDmarcRecord);
  const dmarcNew = `v=DMARC1; p=quarantine; rua=mailto:${context.config.REPORT_ADDRESS}@${domain}`;
  const dmarcValid = dmarcOld.length === 1 && parseDmarc(dmarcOld[0] as string).errors.length === 0;
  records.push(
    dmarcValid
      ? { name: dmarcName, type: 'TXT', action: 'keep', old: dmarcOld, new: [], reason: 'a valid DMARC record is kept' }
      : {
          name: dmarcName,
          type: 'TXT',
          action: dmarcOld.length === 0 ? 'add' : 'change',
          old: dmarcOld,
          new: [dmarcNew],
          reason: dmarcOld.length === 0 ? `DMARC, reports to ${context.config.REPORT_ADDRESS}@` : 'the DMARC record is not valid',
        }
  );

  const tlsRptName = `_smtp._tls.${domain}`;
  const tlsRptOld = answer(tlsRpt, tlsRptName, 'TXT').filter((value) => /^v=TLSRPTv1\s*;/i.test(value.trim()));
  records.push(
    tlsRptOld.length > 0
      ? { name: tlsRptName, type: 'TXT', action: 'keep', old: tlsRptOld, new: [], reason: 'TLS reports already go somewhere' }
      : {
          name: tlsRptName,
          type: 'TXT',
          action: 'add',
          old: [],
          new: [`v=TLSRPTv1; rua=mailto:${context.config.REPORT_ADDRESS}@${domain}`],
          reason: 'TLS reports to postmaster',
        }
  );
  const caa = await planCaa(context, domain, known);
  if (caa) records.push(caa);
  return { hostname, records };
}

/** A CAA record in zone-file form, `0 issue "letsencrypt.org"` (node gives the tag as the name of a property). */
function caaValue(record: CaaRecord): string {
  const [tag, value] = (Object.entries(record) as Array<[string, unknown]>).find(([key]) => key !== 'critical' && key !== 'type') ?? [
    'issue',
    '',
  ];
  return `${record.critical} ${tag} "${String(value).replace(/["\\]/g, '\\$&')}"`;
}

/**
 * CAA for the CA mailops orders from, judged as the `caa` check judges it: the relevant set is the first found climbing
 * from the domain (RFC 8659 section 3). None: the recommended record. A set that does not allow the CA: an `issue`
 * record for it beside them, at the domain — when the set is a parent's, the domain's own set then replaces it for the
 * domain, so it starts as a copy of the parent's. Unknown CAA identity (a CA mailops has no entry for): nothing.
 */
async function planCaa(context: OperationContext, domain: string, known: CheckFacts): Promise<PlannedRecord | undefined> {
  const directoryUrl = context.config.ACME_DIRECTORY;
  const identities = caaIdentities(directoryUrl);
  const accountUri = acmeAccount(context.database, directoryUrl);
  const wanted = recommendedCaa(identities, accountUri);
  if (wanted === undefined) return undefined;
  const labels = domain.split('.');
  const names = labels.slice(0, -1).map((_, index) => labels.slice(index).join('.'));
  const answers = await Promise.all(names.map(async (name) => ({ name, answer: await known.lookup(name, 'CAA') })));
  const failed = answers.find((entry) => entry.answer.status === 'temperror');
  if (failed) lookupFailed(failed.name, 'CAA', failed.answer);
  const found = answers.find((entry) => entry.answer.status === 'ok' && entry.answer.records.length > 0);
  const old = found ? (answerValues(found.answer, caaValue) ?? []) : [];
  const verdict = evaluateCaa({
    domain,
    answers,
    directoryUrl,
    identities,
    ...(accountUri === undefined ? {} : { accountUri }),
  });
  if (found && verdict.status === 'pass')
    return { name: found.name, type: 'CAA', action: 'keep', old, new: [], reason: 'CAA allows the CA of ACME_DIRECTORY' };
  if (!found)
    return { name: domain, type: 'CAA', action: 'add', old: [], new: [wanted], reason: 'CAA: only the CA of ACME_DIRECTORY may issue' };
  if (found.name === domain)
    return {
      name: domain,
      type: 'CAA',
      action: 'add',
      old,
      new: [...old, wanted],
      reason: 'CAA gains the CA of ACME_DIRECTORY, keeping the CAs it allows',
    };
  return {
    name: domain,
    type: 'CAA',
    action: 'add',
    old: [],
    new: [...old, wanted],
    reason: `CAA of ${found.name}, which applies to ${domain} too, copied with the CA of ACME_DIRECTORY added`,
  };
}

function answer(txt: DnsAnswer<string[]>, name: string, type: string): string[] {
  return answerValues(txt, (strings) => joinTxt(strings)) ?? lookupFailed(name, type, txt);
}

function validated(context: OperationContext, input: SetupInput): { domain: string; forwardTo?: string; sender?: string } {
  const domain = managedDomain(input.domain, managedDomains(context.config));
  const forwardTo = input.forwardTo === undefined || input.forwardTo === '' ? undefined : parseTarget(input.forwardTo, domain);
  const sender =
    input.sender === undefined || input.sender === '' ? undefined : parseManagedAddress(input.sender, [domain], 'sender').address;
  return { domain, ...(forwardTo === undefined ? {} : { forwardTo }), ...(sender === undefined ? {} : { sender }) };
}

/** What setup would do: read-only. */
export async function planSetup(context: OperationContext, input: SetupInput, resolver?: DnsResolver): Promise<SetupPlan> {
  const { domain, forwardTo, sender } = validated(context, input);
  const { hostname, records } = await planRecords(context, domain, resolver ?? new DnsResolver({ server: context.config.DNS_RESOLVER }));
  const publishing = records.filter((record) => record.action === 'add' || record.action === 'change');
  const rfcTo = forwardTo ?? sender;
  return {
    domain,
    hostname,
    records,
    steps: [
      {
        id: 'dns',
        plan:
          publishing.length === 0
            ? 'DNS: nothing to publish'
            : `DNS: publish ${publishing.length} record set${publishing.length === 1 ? '' : 's'} through DNS_PROVIDER=${context.config.DNS_PROVIDER}`,
      },
      { id: 'domain', plan: `the directory domains/${domain} on the host` },
      { id: 'certificate', plan: `certificate for ${hostname}: issue or renew when due, then (re)start chasquid` },
      {
        id: 'sender',
        plan: sender === undefined ? 'no sender (--sender not given)' : `the sender ${sender}, with a generated password shown once`,
      },
      {
        id: 'aliases',
        plan:
          rfcTo === undefined
            ? 'postmaster and abuse: need --forward-to or --sender'
            : `postmaster@${domain} and abuse@${domain} → ${rfcTo}`,
      },
      { id: 'catch-all', plan: forwardTo === undefined ? 'no catch-all (--forward-to not given)' : `*@${domain} → ${forwardTo}` },
      {
        id: 'reports',
        plan: `the report address ${context.config.REPORT_ADDRESS}@${domain}, where DMARC and TLS reports arrive (mailops reports)`,
      },
      { id: 'dkim', plan: 'a DKIM key (rsa2048) when none signs' },
    ],
  };
}

/** The plan as lines for people: the steps, then each record with its old and new value. */
export function describePlan(plan: SetupPlan, show: (value: string) => string = (value) => value): string[] {
  const lines = plan.steps.map((step, index) => `${index + 1}. ${step.plan}`);
  for (const record of plan.records) {
    const was = record.old.length === 0 ? '(none)' : record.old.map((value) => JSON.stringify(value)).join(', ');
    if (record.action === 'keep') lines.push(`   keep ${record.name} ${record.type} ${was}`);
    else
      lines.push(
        `   ${record.action} ${record.name} ${record.type}: ${was} → ${record.new.length === 0 ? '(yours to fix)' : record.new.map((value) => show(JSON.stringify(value))).join(', ')} (${record.reason})`
      );
  }
  return lines;
}

function changesOf(records: readonly PlannedRecord[]): UpdateChange[] {
  const changes: UpdateChange[] = [];
  for (const record of records) {
    if (record.action !== 'add' && record.action !== 'change') continue;
    if (record.action === 'change')
      for (const value of record.old)
        changes.push({ action: 'delete', record: { name: record.name, type: record.type, value, ttl: recordTtl } });
    // An `add` may show the values kept beside the new ones (CAA): only the new ones are added.
    for (const value of record.new.filter((each) => record.action === 'change' || !record.old.includes(each)))
      changes.push({ action: 'add', record: { name: record.name, type: record.type, value, ttl: recordTtl } });
  }
  return changes;
}

/** The records as one zone-file block, for publishing by hand. */
export function zoneBlock(records: readonly PlannedRecord[]): string {
  return changesOf(records)
    .map(
      (change) =>
        `${change.action === 'delete' ? '; remove: ' : ''}${zoneLine(change.record.name, change.record.type ?? 'TXT', change.record.value, change.record.ttl)}`
    )
    .join('\n');
}

async function dnsStep(context: OperationContext, plan: SetupPlan, input: SetupRunInput): Promise<SetupStep> {
  const yours = plan.records.filter((record) => record.action === 'needs-you');
  const pending = plan.records.filter((record) => record.action === 'add' || record.action === 'change');
  const yoursText = yours.map((record) => `${record.name} ${record.type}: ${record.reason}`).join('; ');
  if (pending.length === 0) {
    return yours.length === 0
      ? { id: 'dns', status: 'unchanged', detail: 'every record is as it should be' }
      : { id: 'dns', status: 'needs-you', detail: yoursText };
  }
  const publishing = input.publishing();
  if (publishing.publisher instanceof ManualPublisher) {
    // By hand: the whole plan as one block, and one wait for all of it (not one per record).
    await publishing.publisher.applyAll(changesOf(pending));
  } else if (!(publishing.publisher instanceof Rfc2136Publisher)) {
    return {
      id: 'dns',
      status: 'needs-you',
      detail: `publish these records (DNS_PROVIDER=${publishing.publisher.kind}; setup publishes them itself with rfc2136):\n${zoneBlock(pending)}${yoursText ? `\n${yoursText}` : ''}`,
    };
  } else {
    await input.progress?.(`Publishing ${pending.length} DNS record sets…`);
    await publishing.publisher.apply(changesOf(pending));
  }
  for (const record of pending.filter((each) => each.type === 'TXT'))
    for (const value of record.new) await publishing.waitUntil({ name: record.name, value, ttl: recordTtl }, true);
  recordDone(
    context,
    { operation: 'setup', target: plan.domain },
    `published ${pending.map((record) => `${record.name} ${record.type}`).join(', ')}`
  );
  const done = `published ${pending.map((record) => `${record.name} ${record.type}`).join(', ')}`;
  return yours.length === 0
    ? { id: 'dns', status: 'done', detail: done }
    : { id: 'dns', status: 'needs-you', detail: `${done}; ${yoursText}` };
}

/**
 * The domain directory, before the certificate: chasquid starts only with a certificate and at least one domain. It
 * loads new domains only at start-up, so a running chasquid is restarted; one without a certificate (a fresh host) is
 * not running, and the certificate step starts it.
 */
async function domainStep(context: OperationContext, domain: string, hostname: string): Promise<SetupStep> {
  const files = new DomainFiles(context.host, context.chasquidDir);
  if ((await context.host.files.stat(files.paths.domainDir(domain)))?.type === 'directory')
    return { id: 'domain', status: 'unchanged', detail: `domains/${domain} exists` };
  const certificate = await context.host.files.stat(path.posix.join(context.chasquidDir, 'certs', hostname, 'fullchain.pem'));
  await applyChange(context, { operation: 'setup', target: domain }, async () => {
    const created = await files.ensureDomainDirectory(domain);
    if (created && certificate !== undefined) await restartDaemon(context.host, context.config.CHASQUID_RESTART, context.chasquidDir);
    return { result: created, changedFiles: [], summary: `created domains/${domain}` };
  });
  return {
    id: 'domain',
    status: 'done',
    detail: `created domains/${domain}${certificate === undefined ? ' (chasquid starts once its certificate is installed)' : ' and restarted chasquid to load it'}`,
  };
}

/** Sets `address` → `target` unless the alias exists (with any targets: it is the operator's then). */
async function ensureAlias(context: OperationContext, address: string, target: string): Promise<'created' | 'same' | string[]> {
  const domain = address.split('@')[1] as string;
  const current = (await listAliases(context, { domain })).aliases.find((alias) => alias.address === address);
  if (current) return current.targets.length === 1 && current.targets[0] === target ? 'same' : current.targets;
  await setAlias(context, { address, targets: target });
  return 'created';
}

export async function setup(context: OperationContext, input: SetupRunInput): Promise<SetupResult> {
  const { domain, forwardTo, sender } = validated(context, input);
  const resolver = new DnsResolver({ server: context.config.DNS_RESOLVER });
  const plan = await planSetup(context, { domain, ...(forwardTo ? { forwardTo } : {}), ...(sender ? { sender } : {}) }, resolver);
  const steps: SetupStep[] = [];
  let password: SetupResult['password'];

  steps.push(await dnsStep(context, plan, input));

  steps.push(await domainStep(context, domain, plan.hostname));

  await input.progress?.(`Certificate for ${plan.hostname}…`);
  const certificate = await certRenew(context, {
    force: false,
    publishing: input.publishing,
    ...(input.progress ? { progress: input.progress } : {}),
  });
  if (certificate.renewed)
    steps.push({
      id: 'certificate',
      status: 'done',
      detail: `installed a certificate for ${certificate.names.join(', ')} (${certificate.reason}), valid until ${certificate.notAfter}`,
    });
  else if (!(await daemonState(context.host, context.chasquidDir)).running) {
    // A run cut short after the certificate was installed, before chasquid came back, leaves it down: start it.
    await restartDaemon(context.host, context.config.CHASQUID_RESTART, context.chasquidDir);
    steps.push({ id: 'certificate', status: 'done', detail: `${certificate.reason}; chasquid was not running and was started` });
  } else steps.push({ id: 'certificate', status: 'unchanged', detail: certificate.reason });

  if (sender === undefined) steps.push({ id: 'sender', status: 'unchanged', detail: 'no --sender given' });
  else if ((await listSenders(context, { domain })).users.includes(sender))
    steps.push({ id: 'sender', status: 'unchanged', detail: `${sender} is a sender` });
  else {
    const added = await addSender(context, { address: sender });
    if (added.password !== undefined) password = { address: sender, password: added.password };
    steps.push({ id: 'sender', status: 'done', detail: `added ${sender}; its password is shown once` });
  }

  const rfcTo = forwardTo ?? sender;
  if (rfcTo === undefined)
    steps.push({
      id: 'aliases',
      status: 'needs-you',
      detail: `postmaster@${domain} and abuse@${domain} need a mailbox: run setup with --forward-to or --sender`,
    });
  else {
    const outcomes = await Promise.all(
      ['postmaster', 'abuse'].map(async (local) => ({ local, outcome: await ensureAlias(context, `${local}@${domain}`, rfcTo) }))
    );
    const created = outcomes.filter((entry) => entry.outcome === 'created').map((entry) => `${entry.local}@${domain}`);
    const other = outcomes
      .filter((entry) => Array.isArray(entry.outcome))
      .map((entry) => `${entry.local}@${domain} → ${(entry.outcome as string[]).join(', ')}`);
    steps.push({
      id: 'aliases',
      status: created.length > 0 ? 'done' : 'unchanged',
      detail: [
        created.length > 0 ? `created ${created.join(', ')} → ${rfcTo}` : `postmaster and abuse exist`,
        ...(other.length > 0 ? [`kept ${other.join('; ')}`] : []),
      ].join('; '),
    });
  }

  if (forwardTo === undefined) steps.push({ id: 'catch-all', status: 'unchanged', detail: 'no --forward-to given' });
  else {
    const outcome = await ensureAlias(context, `*@${domain}`, forwardTo);
    steps.push(
      outcome === 'created'
        ? { id: 'catch-all', status: 'done', detail: `*@${domain} → ${forwardTo}` }
        : outcome === 'same'
          ? { id: 'catch-all', status: 'unchanged', detail: `*@${domain} → ${forwardTo}` }
          : {
              id: 'catch-all',
              status: 'needs-you',
              detail: `*@${domain} goes to ${outcome.join(', ')}; to change it: alias-set '*@${domain}' ${forwardTo} --yes`,
            }
    );
  }

  const inbox = await ensureReportInboxes(context, [domain]);
  steps.push(
    inbox.created.includes(domain)
      ? { id: 'reports', status: 'done', detail: `${context.config.REPORT_ADDRESS}@${domain} receives DMARC and TLS reports` }
      : { id: 'reports', status: 'unchanged', detail: `${context.config.REPORT_ADDRESS}@${domain} exists` }
  );

  const dkim = await dkimShow(context, { domain });
  const signing = dkim.selectors.filter((selector) => selector.active);
  if (signing.length > 0)
    steps.push({ id: 'dkim', status: 'unchanged', detail: `selector ${signing.map((selector) => selector.selector).join(', ')} signs` });
  else {
    await input.progress?.(`DKIM key for ${domain}…`);
    const rotated = await dkimRotate(context, {
      domain,
      publishing: input.publishing,
      ...(input.progress ? { progress: input.progress } : {}),
    });
    steps.push({
      id: 'dkim',
      status: 'done',
      detail: `selector ${rotated.selector} (${dkimRecordName(rotated.selector, domain)}) published and signing`,
    });
  }

  await input.progress?.(`Checking ${domain}…`);
  const report = await check(context, { domain, resolver: new DnsResolver({ server: context.config.DNS_RESOLVER }) });
  // What setup published (and what was there and agrees with the mail host) is the state the drift job starts from.
  await dnsDiff(context, { domain, accept: true });

  const remaining: string[] = [];
  const ptr = report.checks.find((result) => result.id === 'ptr');
  if (ptr && ptr.status !== 'pass' && ptr.status !== 'skip') {
    const known = facts(context, domain, resolver);
    const sending = (await known.hostAddresses()).filter((address) => address.onHost !== false);
    remaining.push(
      `Reverse DNS, at your VPS provider: ${sending.map((address) => `${reverseName(address.address)} PTR ${plan.hostname}.`).join('; ') || `the PTR of each address of ${plan.hostname} → ${plan.hostname}.`}`
    );
  }
  remaining.push('Port 25: some VPS providers block outgoing port 25; if mail to other servers stays queued, ask yours to open it.');
  for (const result of report.checks.filter((each) => each.status === 'fail' && each.id !== 'ptr'))
    remaining.push(`${result.id}${result.port ? ` ${result.port}` : ''}: ${result.summary}${result.fix ? ` — ${result.fix}` : ''}`);

  recordDone(context, { operation: 'setup', target: domain }, steps.map((step) => `${step.id} ${step.status}`).join(', '));
  return {
    domain,
    hostname: plan.hostname,
    ok: report.ok,
    plan,
    steps,
    ...(password ? { password } : {}),
    check: report,
    remaining,
  };
}
