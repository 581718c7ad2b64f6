// Which changes ask before they act, and what they ask — one rule for both fronts. Discord shows the question with
// Confirm/Cancel buttons; the CLI refuses (exit 3, audited) unless `--yes` was given.
//
//   user-remove, alias-remove   always; but only once the sender or alias exists (nothing to remove: exit 2 at once)
//   dkim-rotate                 always (a new key is published and takes over signing)
//   alias-set                   when it replaces an existing catch-all, or takes over the mail of an existing sender
//   dkim-retire                 with --prune (records are removed from DNS)
//   setup                       always: the question is the plan (steps, and each record with its old and new value)
//
// The question is plain text; `show` marks up names and values for the front (inline code in Discord).

import { dkimAlgorithms } from '../chasquid/dkim-key.ts';
import { parseAliasAddress, parseManagedAddress, parseManagedDomain, parseTargets } from '../validation/address.ts';
import { listAliases } from './aliases.ts';
import { aliasNotFound, invalidDkimAlgorithm, senderNotFound } from './conditions.ts';
import { managedDomains, type OperationContext } from './context.ts';
import { listSenders } from './senders.ts';

export type ConfirmableRequest =
  | { operation: 'user-remove'; address: string }
  | { operation: 'alias-remove'; address: string }
  | { operation: 'alias-set'; address: string; targets: string }
  | { operation: 'dkim-rotate'; domain: string; algorithm?: string }
  | { operation: 'dkim-retire'; domain: string; prune: boolean }
  | { operation: 'setup'; domain: string; forwardTo?: string; sender?: string };

/** The operations that may ask; every other operation never does. */
export const confirmableOperations: ReadonlySet<string> = new Set([
  'user-remove',
  'alias-remove',
  'alias-set',
  'dkim-rotate',
  'dkim-retire',
  'setup',
]);

export type Show = (value: string, maxLength?: number) => string;
const plain: Show = (value) => value;

/**
 * The question to ask before `request` changes anything, or undefined when it needs none. Validates first and checks
 * that what is to be removed exists, so that nobody is asked to confirm something that would fail anyway.
 */
export async function confirmationQuestion(
  context: OperationContext,
  request: ConfirmableRequest,
  show: Show = plain
): Promise<string | undefined> {
  const domains = managedDomains(context.config);
  switch (request.operation) {
    case 'user-remove': {
      const sender = parseManagedAddress(request.address, domains);
      if (!(await listSenders(context, { domain: sender.domain })).users.includes(sender.address)) {
        throw senderNotFound(sender.address, sender.domain);
      }
      return `Remove the sender ${show(sender.address)}? Mail clients using its password will stop sending.`;
    }
    case 'alias-remove': {
      const alias = parseAliasAddress(request.address, domains);
      const current = (await listAliases(context, { domain: alias.domain })).aliases.find((entry) => entry.address === alias.address);
      if (!current) throw aliasNotFound(alias.address, alias.domain);
      const consequence =
        alias.local === '*' ? 'Mail to unknown addresses will bounce.' : 'Mail to it will bounce unless a catch-all takes it.';
      return `Remove the alias ${show(alias.address)} (→ ${show(current.targets.join(', '), 300)})? ${consequence}`;
    }
    case 'alias-set': {
      const alias = parseAliasAddress(request.address, domains);
      const targets = parseTargets(request.targets, alias.domain).join(', ');
      if (alias.local === '*') {
        const current = (await listAliases(context, { domain: alias.domain })).aliases.find((entry) => entry.address === alias.address);
        if (!current) return undefined;
        return `Replace the catch-all of ${show(alias.domain)}? Mail to unknown addresses now goes to ${show(current.targets.join(', '), 300)}; it would go to ${show(targets, 300)}.`;
      }
      if (!(await listSenders(context, { domain: alias.domain })).users.includes(alias.address)) return undefined;
      return `${show(alias.address)} is a sender: an alias takes over its mail, which would go to ${show(targets, 300)} instead of its own mailbox. Set the alias?`;
    }
    case 'dkim-rotate': {
      const domain = parseManagedDomain(request.domain, domains);
      if (request.algorithm !== undefined && !(dkimAlgorithms as readonly string[]).includes(request.algorithm)) {
        throw invalidDkimAlgorithm(request.algorithm);
      }
      const byHand =
        context.config.DNS_PROVIDER === 'manual'
          ? ' DNS is published by hand here (DNS_PROVIDER=manual): you will be shown the record to publish.'
          : '';
      return `Rotate the DKIM key of ${show(domain)} (${request.algorithm ?? 'rsa2048'})? The old key stays published for the grace period.${byHand}`;
    }
    case 'dkim-retire': {
      if (!request.prune) return undefined;
      const domain = parseManagedDomain(request.domain, domains);
      return `Remove the orphan DKIM and ACME challenge records of ${show(domain)} from DNS (the ones dkim-show lists)? Keys that sign or wait for retirement are kept.`;
    }
    case 'setup': {
      // Loaded when asked: the plan reads DNS and the host, and setup brings every operation with it.
      const { describePlan, planSetup } = await import('./setup.ts');
      const { operation: _operation, ...input } = request;
      const plan = await planSetup(context, input);
      return [`Set up ${show(plan.domain)} (mail host ${show(plan.hostname)})?`, ...describePlan(plan, show)].join('\n');
    }
  }
}
