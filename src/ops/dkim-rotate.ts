// `dkim-rotate <domain>`: a new DKIM key and selector, switched on in an order that never breaks signing:
//
//   1. publish    the new public key in DNS, and wait until every authoritative server answers with it;
//   2. activate   1.14+: add domains/D/dkim:SEL.pem and restart chasquid (keys load at start-up; the old key keeps
//                 signing too); 1.11: write certs/D/dkim_privkey.pem and switch domains/D/dkim_selector (read per
//                 message by the post-data hook, no restart);
//   3. verify     a message submitted now (src/probe) carries a signature with the new selector that verifies against
//                 DNS (mailauth);
//   4. schedule   the old key's retirement after DKIM_GRACE_DAYS (`dkim-retire` removes it), so messages signed with
//                 it still verify meanwhile.
// If a step fails, what was done is undone in reverse order, stopping at the first undo that fails (so the DNS record
// is never removed while the key may still sign), and the error names the step. Steps 1–3 run as one change under
// the host lock, each recorded in the operation's journal before it is taken; a 1.11 key and its selector change in
// one all-or-nothing step. Private keys are made here, written with mode 0640 for root and the daemon's group, and
// never logged.

import type { Resolver } from 'node:dns/promises';
import { daemonAccount } from '../chasquid/daemon-access.ts';
import { chasquidVersion, restartDaemon } from '../chasquid/daemon.ts';
import { builtinKeyFile, hookKeyFile, hookProblems, hookSelectorFile, readDkimFiles, type DkimFiles } from '../chasquid/dkim-files.ts';
import { dkimAlgorithms, dkimRecordFor, dkimRecordName, generateDkimKey, selectorFor, type DkimAlgorithm } from '../chasquid/dkim-key.ts';
import { ChasquidPaths } from '../chasquid/paths.ts';
import { dkimLayout, type DkimLayout } from '../chasquid/version.ts';
import { isNoRecord, resolverFor } from '../dns/authoritative-servers.ts';
import { DnsResolver } from '../dns/caching-resolver.ts';
import type { RecordPublishing } from '../dns/publisher.ts';
import type { TxtRecord } from '../dns/txt.ts';
import { failedError, MailopsError, usageError } from '../errors.ts';
import type { FileChange } from '../host/files.ts';
import { scheduledSelectors, scheduleRetirement } from '../store/dkim-retirements.ts';
import { managedDomain } from '../validation/domain.ts';
import { applyChange } from './change.ts';
import { invalidDkimAlgorithm } from './conditions.ts';
import { managedDomains, type OperationContext } from './context.ts';
import { checkSignature, hostProbe, type SignedMessageProbe } from './dkim-probe.ts';
import { recoverInterruptedRotations } from './dkim-recovery.ts';

/** TTL of DKIM key records. */
export const dkimRecordTtl = 3600;

export interface DkimRotateInput {
  domain: string;
  algorithm?: string;
  /** Made once the checks passed (the manual provider asks a person). */
  publishing: () => RecordPublishing;
  /** Submits and captures a signed message (default: the host probe of src/probe). */
  probe?: SignedMessageProbe;
  /** Told, in a sentence for a person, which step starts (the bot edits its reply with it). */
  progress?: (text: string) => Promise<void> | void;
}

export interface DkimRotateResult {
  domain: string;
  selector: string;
  record: string;
  published: boolean;
  active: boolean;
  algorithm: DkimAlgorithm;
  layout: DkimLayout;
  /** A freshly signed message was verified with the new selector. */
  verified: boolean;
  /** What the signatures of that message gave. */
  verification: string;
  /** Old selectors kept published (and, 1.14+, signing) until their retirement. */
  retiring: Array<{ selector: string; after: string }>;
  /** Interrupted rotations of this domain that this one finished or undid first, a sentence each. */
  recovered?: string[];
}

const steps = {
  prepare: 'prepare the new key',
  publish: 'publish the new key in DNS',
  activate: 'activate the new key on the mail host',
  verify: 'verify a freshly signed message',
  schedule: "schedule the old key's retirement",
} as const;
type Step = keyof typeof steps;

/** Validated input: the domain must be one mailops manages; the algorithm one of ours and fit for the layout. */
function validate(context: OperationContext, input: DkimRotateInput, layout: DkimLayout): { domain: string; algorithm: DkimAlgorithm } {
  const domain = managedDomain(input.domain, managedDomains(context.config));
  const algorithm = (input.algorithm ?? 'rsa2048') as DkimAlgorithm;
  if (!dkimAlgorithms.includes(algorithm)) {
    throw invalidDkimAlgorithm(String(input.algorithm));
  }
  if (algorithm === 'ed25519' && layout === 'hook') {
    throw usageError(
      'dkim-algorithm-unsupported',
      'chasquid before 1.14 signs through the post-data hook, whose dkimsign call signs with RSA only.',
      'Use --algo rsa2048 or rsa3072, or upgrade chasquid to 1.14 or later for Ed25519.'
    );
  }
  return { domain, algorithm };
}

export async function dkimRotate(context: OperationContext, input: DkimRotateInput): Promise<DkimRotateResult> {
  const { host, config, logger } = context;
  const paths = new ChasquidPaths(context.chasquidDir);
  const layout = dkimLayout(await chasquidVersion(host));
  const { domain, algorithm } = validate(context, input, layout);
  if (layout === 'hook') {
    const problems = await hookProblems(host, paths);
    if (problems.length > 0) {
      throw failedError(
        'dkim-hook-missing',
        `This chasquid (before 1.14) signs DKIM through its post-data hook, which cannot sign here: ${problems.join('; ')}.`,
        { hint: 'Fix that on the mail host, then run dkim-rotate again. Nothing was changed.' }
      );
    }
  }
  const publishing = input.publishing();
  const probe = input.probe ?? hostProbe(context);
  // Asked only once the key is published, so nothing in its cache predates it; it answers as a receiver's would.
  const resolver = new DnsResolver({ server: config.DNS_RESOLVER }).forMailauth;
  const undo: UndoList = [];
  let step: Step = 'prepare';
  const recovered: string[] = [];

  try {
    const activated = await applyChange(context, { operation: 'dkim-rotate', target: domain }, async (journal) => {
      recovered.push(...(await recoverInterruptedRotations(context, domain, layout, () => publishing)));
      const before = await readDkimFiles(host, paths, domain, layout);
      const taken = new Set([...before.keys.map((key) => key.selector), ...scheduledSelectors(context.database, domain)]);
      let selector = selectorFor(context.now(), taken);
      // A record already at that name (made by hand, or left over) means the selector is taken too.
      const lookup = resolverFor(config.DNS_RESOLVER);
      while (await nameHasRecord(lookup, dkimRecordName(selector, domain))) selector = selectorFor(context.now(), taken.add(selector));
      const key = generateDkimKey(algorithm, layout);
      context.redactor.add(key.privatePem);
      const record: TxtRecord = { name: dkimRecordName(selector, domain), value: key.record, ttl: dkimRecordTtl };
      try {
        step = 'publish';
        await input.progress?.(
          `Publishing the new ${algorithm} key ${selector} at ${record.name} and waiting until every authoritative name server shows it…`
        );
        journal.record({ step: 'publish', selector, record });
        // A refused or lost UPDATE is verified by the publisher itself: after an error here, nothing was published.
        await publishing.publish(record);
        undo.push({ what: 'the new DNS record was removed', files: [], run: () => publishing.unpublish(record) });
        step = 'activate';
        await input.progress?.(`Activating the key ${selector} on the mail host${layout === 'builtin' ? ' (chasquid restarts)' : ''}…`);
        journal.record({ step: 'activate', selector, layout });
        const changedFiles = await activate(context, paths, domain, selector, key.privatePem, before, undo);
        // The probe runs inside this holding of the lock, so no other change comes between activation and proof.
        step = 'verify';
        await input.progress?.(
          `Verifying a freshly signed message: a test message through the mail host, its s=${selector} signature checked against DNS…`
        );
        const check = await checkSignature(await probe(domain), domain, selector, resolver);
        if (!check.ok)
          throw failedError(
            'dkim-signature-unverified',
            `A message submitted after the switch does not carry a valid signature with s=${selector}: ${check.detail}.`
          );
        // The summary (commit body, audit) also says what this run found interrupted and finished or undid.
        return {
          result: { selector, record: key.record, before, verification: check.detail },
          changedFiles,
          summary: [`new ${algorithm} key ${selector} for ${domain} published, activated and verified`, ...recovered].join('\n'),
        };
      } catch (error) {
        throw await rolledBack(context, domain, step, undo, error);
      }
    });
    const { selector, before, verification } = activated;

    step = 'schedule';
    const after = new Date(context.now().getTime() + config.DKIM_GRACE_DAYS * 86_400_000);
    const retiring = before.keys
      .filter((old) => old.selector !== selector)
      .map((old) => {
        scheduleRetirement(context.database, {
          domain,
          selector: old.selector,
          record: dkimRecordFor(old.privatePem),
          layout,
          scheduledAt: context.now().toISOString(),
          dueAt: after.toISOString(),
        });
        return { selector: old.selector, after: after.toISOString() };
      });
    logger.info({ domain, selector, retiring: retiring.map((old) => old.selector) }, 'DKIM key rotated');
    return {
      domain,
      selector,
      record: activated.record,
      published: true,
      active: true,
      algorithm,
      layout,
      verified: true,
      verification,
      retiring,
      ...(recovered.length > 0 ? { recovered } : {}),
    };
  } catch (error) {
    if (error instanceof MailopsError && error.message.startsWith(`dkim-rotate ${domain} stopped at step`)) throw error;
    if (step === 'schedule') {
      throw failedError(
        'dkim-retirement-not-scheduled',
        `The new DKIM key of ${domain} is published, active and verified, but the old key's retirement could not be scheduled: ${(error as Error).message}.`,
        {
          hint: 'Check STATE_DB; the old key keeps signing and stays published until it is removed (run dkim-rotate again later, or remove it by hand).',
          cause: error,
        }
      );
    }
    // The lock or the rollback's own change failed: undo what is left, even without the lock.
    throw await rolledBack(context, domain, step, undo, error);
  }
}

type UndoList = Array<{ what: string; files: string[]; run: () => Promise<void> }>;

/** Undoes what was done, in reverse order, and returns the error to throw: which step failed, why, and what was put back. */
async function rolledBack(context: OperationContext, domain: string, step: Step, undo: UndoList, error: unknown): Promise<MailopsError> {
  const undone: string[] = [];
  const pending = undo.splice(0).reverse();
  while (pending.length > 0) {
    const action = pending[0];
    if (action === undefined) break;
    try {
      await action.run();
      undone.push(action.what);
      pending.shift();
    } catch (undoError) {
      // Stop here: what came before this step stays as it is (the DNS record stays while the key may still sign).
      context.logger.error({ err: undoError, domain }, `could not undo: ${action.what}`);
      undone.push(
        `NOT DONE: ${action.what.replace(/ was /, ' should have been ')} (${(undoError as Error).message}); left as it is: ${
          pending
            .slice(1)
            .map((left) => left.what.replace(/ was .*/, ''))
            .join('; ') || 'nothing else'
        }`
      );
      break;
    }
  }
  const cause = error instanceof MailopsError ? error : failedError('dkim-rotate-failed', (error as Error).message, { cause: error });
  // "Put back:" only when everything was (the audit then says "rolled back"); an undo that stopped is a failure.
  const putBack = pending.length === 0 ? 'Put back' : 'Put back only in part';
  return new MailopsError(
    'failed',
    cause.code,
    `dkim-rotate ${domain} stopped at step "${steps[step]}": ${cause.message}` +
      ` ${undone.length === 0 ? 'Nothing had been changed.' : `${putBack}: ${undone.join('; ')}.`}`,
    { hint: cause.hint ?? 'Fix the cause and run dkim-rotate again.', cause }
  );
}

async function nameHasRecord(resolver: Resolver, name: string): Promise<boolean> {
  try {
    return (await resolver.resolveTxt(name)).length > 0;
  } catch (error) {
    if (isNoRecord(error)) return false;
    throw failedError('dns-lookup-failed', `Looking up ${name} failed: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`, {
      hint: 'Check DNS_RESOLVER (or the system resolver); then try again.',
    });
  }
}

/** Step 2; registers how to undo it. Returns the files written under CHASQUID_DIR. */
async function activate(
  context: OperationContext,
  paths: ChasquidPaths,
  domain: string,
  selector: string,
  privatePem: string,
  before: DkimFiles,
  undo: UndoList
): Promise<string[]> {
  const { host, config } = context;
  const { group } = await daemonAccount(host, paths.root);
  const keyOptions = { createOwner: `root:${group}`, createMode: 0o640 };
  if (before.layout === 'builtin') {
    const file = builtinKeyFile(paths, domain, selector);
    undo.push({
      what: `${file} was removed and chasquid restarted`,
      files: [file],
      run: async () => {
        await host.files.remove(file);
        await restartDaemon(host, config.CHASQUID_RESTART, context.chasquidDir);
      },
    });
    await host.files.writeAtomic(file, privatePem, keyOptions);
    await restartDaemon(host, config.CHASQUID_RESTART, context.chasquidDir);
    return [file];
  }
  const keyFile = hookKeyFile(paths, domain);
  const selectorFile = hookSelectorFile(paths, domain);
  const [oldKey, oldSelector] = await Promise.all([host.files.read(keyFile), host.files.read(selectorFile)]);
  const restore = (file: string, content: Buffer | undefined): FileChange =>
    content === undefined ? { kind: 'remove', file } : { kind: 'write', file, content };
  undo.push({
    what: `${selectorFile} and ${keyFile} were put back`,
    files: [selectorFile, keyFile],
    run: async () => {
      await host.files.apply([restore(keyFile, oldKey), restore(selectorFile, oldSelector)]);
    },
  });
  // The hook reads both files for every message: they change together, in one all-or-nothing step.
  await host.files.apply([
    { kind: 'directory', directory: paths.certsDir, mode: 0o755 },
    { kind: 'directory', directory: paths.certificateDir(domain), mode: 0o755 },
    { kind: 'write', file: keyFile, content: privatePem, options: keyOptions },
    { kind: 'write', file: selectorFile, content: `${selector}\n`, options: { createOwner: `root:${group}`, createMode: 0o644 } },
  ]);
  return [keyFile, selectorFile];
}
