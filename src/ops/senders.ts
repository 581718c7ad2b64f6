// Senders (SMTP AUTH users): user-add, passwd, user-remove, users.
//
// mailops writes the users file itself rather than calling `chasquid-util user-add`: the password would otherwise
// have to travel on the host's command line (`--password=`, visible to every user in `ps`) or through a terminal
// prompt. Here it never leaves this process: the scrypt hash is computed locally with chasquid's parameters and
// only the hash is written, atomically and with a backup, under the host lock. Every other entry of the file is kept
// byte for byte (users-file.ts). chasquid re-reads users files every 30 seconds, so a change is live within that.

import { chasquidVersion, restartDaemon } from '../chasquid/daemon.ts';
import { DomainFiles } from '../chasquid/domain-files.ts';
import { describeDangling } from '../chasquid/local-addresses.ts';
import { hashedUserEntry, readUsersFile, UsersFile } from '../chasquid/users-file.ts';
import { atLeast } from '../chasquid/version.ts';
import { failedError, usageError } from '../errors.ts';
import { isMailopsOwned } from '../probe/names.ts';
import { parseManagedAddress, parseManagedDomain, type Address } from '../validation/address.ts';
import { checkChosenPassword, generatePassword } from '../validation/password.ts';
import { applyChange, requireConfirmation } from './change.ts';
import { senderNotFound } from './conditions.ts';
import { managedDomains, type OperationContext } from './context.ts';

export interface PasswordResult {
  ok: true;
  address: string;
  /** Present only when mailops generated the password: shown once, to the person who asked. */
  password?: string;
  /** chasquid was restarted, for the reason given, so that the sender works at once. */
  restarted: boolean;
  restartReason?: string;
  /** What mailops repaired so that chasquid can read the file. */
  repaired: string[];
}

export interface SenderInput {
  address: string;
  /** A password chosen by the person; generated when absent. */
  password?: string;
}

/**
 * Validates the input and starts hashing the password: everything that can fail without touching the host. The
 * hash (scrypt, tens of milliseconds) is computed while the host lock is taken and the users file read.
 */
function prepare(
  context: OperationContext,
  input: SenderInput
): { address: Address; password: string; generated: boolean; entry: Promise<string> } {
  const address = parseManagedAddress(input.address, managedDomains(context.config));
  if (input.password !== undefined) {
    context.redactor.add(input.password);
    checkChosenPassword(input.password, address.address);
  }
  const password = input.password ?? generatePassword();
  context.redactor.add(password);
  const entry = hashedUserEntry(address.local, password);
  // Awaited inside the change; until then a failure must not surface as an unhandled rejection.
  entry.catch(() => undefined);
  return { address, password, generated: input.password === undefined, entry };
}

async function setPassword(context: OperationContext, input: SenderInput, operation: 'user-add' | 'passwd'): Promise<PasswordResult> {
  const prepared = prepare(context, input);
  const { address } = prepared;
  return applyChange(context, { operation, target: address.address }, async () => {
    const files = new DomainFiles(context.host, context.chasquidDir);
    const usersFile = files.paths.usersFile(address.domain);
    const existing = await files.read(usersFile);
    const current = readUsersFile(existing, usersFile);
    if (operation === 'user-add' && current.has(address.local)) {
      throw usageError(
        'sender-exists',
        `${address.address} is already a sender; nothing was changed.`,
        `To give it a new password, use passwd ${address.address}.`
      );
    }
    if (operation === 'passwd' && !current.has(address.local)) {
      throw senderNotFound(address.address, address.domain);
    }
    // A users file implies its domain directory; only a first sender may need to create it.
    const created = existing === undefined && (await files.ensureDomainDirectory(address.domain));
    const others = current.keys().filter((key) => key !== address.local);
    current.set(address.local, await prepared.entry);
    const content = current.toBuffer();
    // Serialise, re-read and compare before writing: the file must hold exactly the senders we expect.
    const check = UsersFile.parse(content);
    if (
      !check.has(address.local) ||
      check
        .keys()
        .filter((key) => key !== address.local)
        .join('\n') !== others.join('\n')
    ) {
      throw failedError(
        'users-file-check-failed',
        `The new users file for ${address.domain} did not read back as expected; nothing was written.`,
        { hint: 'This is a bug in mailops; the file on the host is unchanged.' }
      );
    }
    const repaired = await files.write(usersFile, content);
    // chasquid loads new domains only at start-up; before 1.15 it also ignores a users file that appeared later.
    const restartReason = created
      ? 'to load the new domain'
      : existing === undefined && !atLeast(await chasquidVersion(context.host), 1, 15)
        ? 'chasquid before 1.15 loads a new users file only at start-up'
        : undefined;
    if (restartReason !== undefined) await restartDaemon(context.host, context.config.CHASQUID_RESTART, context.chasquidDir);
    const result: PasswordResult = { ok: true, address: address.address, restarted: restartReason !== undefined, repaired };
    if (restartReason !== undefined) result.restartReason = restartReason;
    if (prepared.generated) result.password = prepared.password;
    return {
      result,
      changedFiles: [usersFile],
      summary: `${operation === 'user-add' ? 'added sender' : 'changed password'}${prepared.generated ? ' (generated password)' : ''}${restartReason ? `; chasquid restarted ${restartReason}` : ''}`,
    };
  });
}

export function addSender(context: OperationContext, input: SenderInput): Promise<PasswordResult> {
  return setPassword(context, input, 'user-add');
}

export function changeSenderPassword(context: OperationContext, input: SenderInput): Promise<PasswordResult> {
  return setPassword(context, input, 'passwd');
}

export interface RemoveResult {
  ok: true;
  address: string;
}

export async function removeSender(context: OperationContext, input: { address: string; confirmed: boolean }): Promise<RemoveResult> {
  const address = parseManagedAddress(input.address, managedDomains(context.config));
  requireConfirmation(context, { operation: 'user-remove', target: address.address }, input.confirmed);
  return applyChange(context, { operation: 'user-remove', target: address.address }, async () => {
    const files = new DomainFiles(context.host, context.chasquidDir);
    const rules = await files.aliasRules();
    const loaded = await files.load(address.domain, rules);
    // An alias that forwards here would bounce, or loop through the catch-all, once the sender is gone.
    const { changed, stranded } = await files.strandedBy(rules, loaded, () => loaded.users.remove(address.local));
    if (!changed) {
      throw senderNotFound(address.address, address.domain);
    }
    if (stranded.length > 0) {
      throw usageError(
        'sender-in-use',
        `${address.address} receives mail for ${stranded.map(describeDangling).join(', ')}; removing it would make that mail bounce or loop. Nothing was changed.`,
        'Change or remove those aliases first (alias-set / alias-remove).'
      );
    }
    await files.write(loaded.usersFile, loaded.users.toBuffer());
    return { result: { ok: true, address: address.address }, changedFiles: [loaded.usersFile], summary: 'removed sender' };
  });
}

export interface SendersResult {
  users: string[];
  /** The senders mailops created for itself (the probe), a subset of `users`. */
  mailopsOwned: string[];
}

/** The senders of one managed domain, or of all of them: sorted, without duplicates. Read-only. */
export async function listSenders(context: OperationContext, input: { domain?: string } = {}): Promise<SendersResult> {
  const domains =
    input.domain === undefined ? managedDomains(context.config) : [parseManagedDomain(input.domain, managedDomains(context.config))];
  const files = new DomainFiles(context.host, context.chasquidDir);
  const perDomain = await Promise.all(
    domains.map(async (domain) => {
      const usersFile = files.paths.usersFile(domain);
      return readUsersFile(await files.read(usersFile), usersFile)
        .keys()
        .map((key) => `${key}@${domain}`);
    })
  );
  const users = [...new Set(perDomain.flat())].sort();
  return {
    users,
    mailopsOwned: users.filter((user) => isMailopsOwned(user.slice(0, user.lastIndexOf('@')), context.config.REPORT_ADDRESS)),
  };
}
