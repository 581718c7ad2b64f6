// /mail alias-set address:<address> targets:<a, b> — create or replace an alias; *@domain is the catch-all, and
// replacing an existing catch-all asks for confirmation first.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { changeNotes, colours, inlineCode } from '../src/bot/render.ts';
import { aliasSuggestions } from '../src/bot/suggestions.ts';
import { listAliases, setAlias } from '../src/ops/aliases.ts';
import { managedDomains } from '../src/ops/context.ts';
import { parseAliasAddress } from '../src/validation/address.ts';

export default defineCommand({
  name: 'alias-set',
  description: 'Create or replace an alias; *@domain is the catch-all',
  access: 'change',
  options: {
    address: option.address('The alias, like sales@example.com, or *@example.com for the catch-all', { suggest: aliasSuggestions }),
    targets: option.text('Where mail goes: addresses, comma-separated'),
  },
  target: 'address',
  async confirm({ address, targets }, context) {
    const operation = context.operation();
    const alias = parseAliasAddress(address, managedDomains(operation.config));
    if (alias.local !== '*') return undefined;
    const current = (await listAliases(operation, { domain: alias.domain })).aliases.find((entry) => entry.address === alias.address);
    if (!current) return undefined;
    return `Replace the catch-all of ${inlineCode(alias.domain)}? Mail to unknown addresses now goes to ${inlineCode(current.targets.join(', '), 300)}; ` +
      `it would go to ${inlineCode(targets, 300)}.`;
  },
  async execute(context, { address, targets }) {
    const result = await setAlias(context.operation(), { address, targets });
    const previous = result.previous === undefined ? '' : `Was: ${result.previous.join(', ')}\n`;
    return {
      embeds: [{ title: `${result.address} → ${result.targets.join(', ')}`, color: result.warnings.length > 0 ? colours.warn : colours.ok, description: `${previous}${changeNotes(result)}` }],
    };
  },
});
