// One error per condition: the errors that more than one operation (or an operation and its confirmation question)
// raise, each with one code and one wording, so that both fronts and every path say the same thing.

import { dkimAlgorithms } from '../chasquid/dkim-key.ts';
import { usageError, type MailopsError } from '../errors.ts';

/** The address is not a sender of its domain. */
export function senderNotFound(address: string, domain: string): MailopsError {
  return usageError(
    'sender-not-found',
    `${address} is not a sender; nothing was changed.`,
    `List the senders: mailops users ${domain}; add one with mailops user-add ${address}`
  );
}

/** The address is not an alias of its domain. */
export function aliasNotFound(address: string, domain: string): MailopsError {
  return usageError('alias-not-found', `${address} is not an alias; nothing was changed.`, `List the aliases: mailops aliases ${domain}`);
}

/** A DKIM key type mailops does not make. */
export function invalidDkimAlgorithm(given: string): MailopsError {
  return usageError(
    'invalid-dkim-algorithm',
    `"${given.slice(0, 40)}" is not a DKIM key type mailops makes.`,
    `Use one of: ${dkimAlgorithms.join(', ')}.`
  );
}
