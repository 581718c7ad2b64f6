// alias-set, alias-remove, aliases.

import { listAliases, removeAlias, setAlias } from '../../ops/aliases.ts';
import { operationContext } from '../../ops/context.ts';
import type { CliCommand } from '../command.ts';
import { requireYes, yesOption } from '../confirm.ts';

export const aliasSetCommand: CliCommand = {
  name: 'alias-set',
  summary: 'create or replace an alias; *@domain is the catch-all',
  arguments: ['<address>', '<targets>'],
  options: [{ ...yesOption, description: 'confirm replacing a catch-all, or an alias that takes over a sender\'s mail' }],
  async run(context, [address = '', targets = ''], options) {
    await requireYes(context, { operation: 'alias-set', address, targets }, options.yes);
    const result = await setAlias(operationContext(context.runtime, context.actor), { address, targets });
    const lines = [`${result.address} → ${result.targets.join(', ')}${result.previous ? ` (was: ${result.previous.join(', ')})` : ''}`];
    if (result.restarted) lines.push('chasquid was restarted to load the new domain.');
    for (const repair of result.repaired) lines.push(`Repaired so that chasquid can read it: ${repair}`);
    for (const warning of result.warnings) lines.push(`Warning: ${warning}`);
    lines.push('chasquid picks up the change within 30 seconds.');
    return { json: result, text: lines.join('\n') };
  },
};

export const aliasRemoveCommand: CliCommand = {
  name: 'alias-remove',
  summary: 'remove an alias',
  arguments: ['<address>'],
  options: [{ ...yesOption, description: 'confirm the removal' }],
  async run(context, [address = ''], options) {
    await requireYes(context, { operation: 'alias-remove', address }, options.yes);
    const result = await removeAlias(operationContext(context.runtime, context.actor), { address, confirmed: options.yes === true });
    return { json: result, text: `Removed alias ${result.address}.` };
  },
};

export const aliasesCommand: CliCommand = {
  name: 'aliases',
  summary: 'list aliases',
  arguments: ['[domain]'],
  options: [],
  async run(context, [domain]) {
    const result = await listAliases(operationContext(context.runtime, context.actor), domain === undefined ? {} : { domain });
    const width = Math.max(0, ...result.aliases.map((alias) => alias.address.length));
    return {
      json: result,
      text: result.aliases.length === 0 ? 'No aliases.' : result.aliases.map((alias) =>
        `${alias.address.padEnd(width)}  → ${alias.targets.join(', ')}${alias.mailopsOwned ? '  (mailops probe)' : ''}`).join('\n'),
    };
  },
};
