// Forwarding aliases: alias-set, alias-remove, aliases.
//
// The aliases file is parsed into a model that keeps every line we do not change (aliases-file.ts), changed,
// serialised, parsed again and compared with what we meant before it is written — atomically, with a backup,
// under the host lock. chasquid re-reads aliases every 30 seconds; from 1.12 a reload error stops the daemon, so a
// file it could not parse must never be written: from 1.16, where an unparseable line is such an error, we refuse
// to touch a file that already holds one (it would have to be fixed by hand anyway).
//
// A target in a domain this host serves must exist (a sender or an alias), and an alias that other aliases
// forward to cannot be removed: such a target bounces, and with a catch-all in its domain it loops until chasquid
// gives up and refuses the message for every recipient (local-addresses.ts).

import { AliasesFile, type AliasEntry, type AliasRules } from '../chasquid/aliases-file.ts';
import { chasquidVersion, restartDaemon } from '../chasquid/daemon.ts';
import { DomainFiles, type LoadedDomain } from '../chasquid/domain-files.ts';
import { danglingTargets, describeDangling } from '../chasquid/local-addresses.ts';
import { atLeast } from '../chasquid/version.ts';
import { failedError, usageError } from '../errors.ts';
import { isMailopsOwned } from '../probe/names.ts';
import { parseAliasAddress, parseManagedDomain, parseTargets } from '../validation/address.ts';
import { applyChange, requireConfirmation } from './change.ts';
import { aliasNotFound } from './conditions.ts';
import { managedDomains, type OperationContext } from './context.ts';

export interface AliasView {
  address: string;
  targets: string[];
  /** Present (true) on aliases mailops created for itself (the probe inbox). */
  mailopsOwned?: true;
}

export interface AliasSetResult {
  ok: true;
  address: string;
  targets: string[];
  /** The targets it had before, when it replaced an alias. */
  previous?: string[];
  restarted: boolean;
  /** What mailops repaired so that chasquid can read the file. */
  repaired: string[];
  warnings: string[];
}

function view(entry: AliasEntry, domain: string, reportLocal: string): AliasView {
  const alias: AliasView = {
    address: `${entry.user.toLowerCase()}@${domain}`,
    targets: entry.pipe === undefined ? entry.targets : [`| ${entry.pipe}`],
  };
  if (isMailopsOwned(entry.key, reportLocal)) alias.mailopsOwned = true;
  return alias;
}

/** Refuses to change an aliases file the running chasquid could not load (1.16+: unparseable lines are fatal). */
async function refuseInvalidFile(context: OperationContext, loaded: LoadedDomain): Promise<void> {
  const invalid = loaded.aliases.invalidLines();
  if (invalid.length > 0 && atLeast(await chasquidVersion(context.host), 1, 16)) {
    throw failedError(
      'aliases-file-invalid',
      `The aliases file of ${loaded.domain} has lines chasquid cannot parse (${JSON.stringify(invalid[0])}); mailops left it unchanged.`,
      { hint: `Fix or remove those lines in ${loaded.aliasesFile} by hand: chasquid 1.16 and later stop on them.` }
    );
  }
}

function entriesOf(aliases: AliasesFile): Map<string, string> {
  return new Map(aliases.entries().map((entry) => [entry.key, JSON.stringify([entry.targets, entry.pipe ?? null])]));
}

/** Writes the changed file after checking that it reads back as intended and kept every line we do not own. */
async function writeChecked(
  files: DomainFiles,
  loaded: LoadedDomain,
  rules: AliasRules,
  before: AliasesFile,
  expected: Map<string, string>
): Promise<string[]> {
  const text = loaded.aliases.toString();
  const reread = AliasesFile.parse(text, loaded.domain, rules);
  const actual = entriesOf(reread);
  const same = actual.size === expected.size && [...expected].every(([key, value]) => actual.get(key) === value);
  if (!same || reread.preservedLines().join('\n') !== before.preservedLines().join('\n')) {
    throw failedError(
      'aliases-file-check-failed',
      `The new aliases file for ${loaded.domain} did not read back as expected; nothing was written.`,
      { hint: 'This is a bug in mailops; the file on the host is unchanged.' }
    );
  }
  return files.write(loaded.aliasesFile, text);
}

/** mailops's own addresses (probe, report address) are kept by mailops; the alias commands leave them alone. */
function refuseMailopsOwned(context: OperationContext, address: { local: string; address: string }): void {
  if (!isMailopsOwned(address.local, context.config.REPORT_ADDRESS)) return;
  throw usageError(
    'mailops-own-address',
    `${address.address} is one of mailops's own addresses (the probe's, or where DMARC and TLS reports arrive); mailops keeps it as it is. Nothing was changed.`,
    'Use another address; to receive reports at another local part, set REPORT_ADDRESS.'
  );
}

export async function setAlias(context: OperationContext, input: { address: string; targets: string }): Promise<AliasSetResult> {
  const address = parseAliasAddress(input.address, managedDomains(context.config));
  refuseMailopsOwned(context, address);
  const targets = parseTargets(input.targets, address.domain);
  if (targets.includes(address.address)) {
    throw usageError('alias-loop', `${address.address} cannot forward to itself.`, 'Remove it from the targets.');
  }
  return applyChange(context, { operation: 'alias-set', target: address.address }, async () => {
    const files = new DomainFiles(context.host, context.chasquidDir);
    if (address.local === '*' && !atLeast(await chasquidVersion(context.host), 1, 10)) {
      throw usageError(
        'catch-all-unsupported',
        'This chasquid is older than 1.10, which has no catch-all aliases; nothing was changed.',
        'Upgrade chasquid to use *@domain.'
      );
    }
    const rules = await files.aliasRules();
    const loaded = await files.load(address.domain, rules);
    await refuseInvalidFile(context, loaded);
    const before = AliasesFile.parse(loaded.aliases.toString(), address.domain, rules);
    const previous = loaded.aliases.get(address.local);
    loaded.aliases.set(address.local, targets);

    const missing = danglingTargets(await files.states(rules, loaded), rules).filter(
      (entry) => entry.alias === `${address.local}@${address.domain}`
    );
    if (missing.length > 0) {
      throw usageError(
        'target-not-found',
        `${missing.map((entry) => entry.target).join(', ')} ${missing.length === 1 ? 'is' : 'are'} neither a sender nor an alias on this host; mail to ${missing.length === 1 ? 'it' : 'them'} would bounce, or loop through the catch-all. Nothing was changed.`,
        'Add the sender (user-add) or the alias first, or check the spelling of the target.'
      );
    }

    const expected = entriesOf(before);
    expected.set(loaded.aliases.get(address.local)?.key ?? address.local, JSON.stringify([targets, null]));
    const created = await files.ensureDomainDirectory(address.domain);
    const repaired = await writeChecked(files, loaded, rules, before, expected);
    if (created) await restartDaemon(context.host, context.config.CHASQUID_RESTART, context.chasquidDir);
    const warnings: string[] = [];
    if (address.local !== '*' && loaded.users.has(address.local)) {
      warnings.push(
        `${address.address} is also a sender; chasquid delivers its mail to the alias targets, not to the sender's own mailbox.`
      );
    }
    const result: AliasSetResult = { ok: true, address: address.address, targets, restarted: created, repaired, warnings };
    if (previous !== undefined) result.previous = previous.pipe === undefined ? previous.targets : [`| ${previous.pipe}`];
    return { result, changedFiles: [loaded.aliasesFile], summary: `${previous ? 'replaced' : 'created'} alias → ${targets.join(', ')}` };
  });
}

export async function removeAlias(
  context: OperationContext,
  input: { address: string; confirmed: boolean }
): Promise<{ ok: true; address: string }> {
  const address = parseAliasAddress(input.address, managedDomains(context.config));
  refuseMailopsOwned(context, address);
  requireConfirmation(context, { operation: 'alias-remove', target: address.address }, input.confirmed);
  return applyChange(context, { operation: 'alias-remove', target: address.address }, async () => {
    const files = new DomainFiles(context.host, context.chasquidDir);
    const rules = await files.aliasRules();
    const loaded = await files.load(address.domain, rules);
    await refuseInvalidFile(context, loaded);
    const before = AliasesFile.parse(loaded.aliases.toString(), address.domain, rules);
    const key = loaded.aliases.get(address.local)?.key;
    const { changed, stranded } = await files.strandedBy(rules, loaded, () => loaded.aliases.remove(address.local));
    if (key === undefined || !changed) {
      throw aliasNotFound(address.address, address.domain);
    }
    if (stranded.length > 0) {
      throw usageError(
        'alias-in-use',
        `${address.address} is a target of ${stranded.map(describeDangling).join(', ')}; removing it would make that mail bounce or loop. Nothing was changed.`,
        'Change or remove those aliases first.'
      );
    }
    const expected = entriesOf(before);
    expected.delete(key);
    await writeChecked(files, loaded, rules, before, expected);
    return { result: { ok: true, address: address.address }, changedFiles: [loaded.aliasesFile], summary: 'removed alias' };
  });
}

/** The aliases of one managed domain, or of all: sorted by address, one entry per alias as chasquid sees them. */
export async function listAliases(context: OperationContext, input: { domain?: string } = {}): Promise<{ aliases: AliasView[] }> {
  const domains =
    input.domain === undefined ? managedDomains(context.config) : [parseManagedDomain(input.domain, managedDomains(context.config))];
  const files = new DomainFiles(context.host, context.chasquidDir);
  const rules = await files.aliasRules();
  const perDomain = await Promise.all(
    domains.map(async (domain) => {
      const content = await files.read(files.paths.aliasesFile(domain));
      return AliasesFile.parse(content?.toString('utf8'), domain, rules)
        .entries()
        .map((entry) => view(entry, domain, context.config.REPORT_ADDRESS));
    })
  );
  return { aliases: perDomain.flat().sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)) };
}
