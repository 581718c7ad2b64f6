// /mail alias-remove address:<address> — remove an alias, after Confirm.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { colours, inlineCode } from '../src/bot/render.ts';
import { aliasSuggestions } from '../src/bot/suggestions.ts';
import { listAliases, removeAlias } from '../src/ops/aliases.ts';
import { managedDomains } from '../src/ops/context.ts';
import { usageError } from '../src/errors.ts';
import { parseAliasAddress } from '../src/validation/address.ts';

export default defineCommand({
  name: 'alias-remove',
  description: 'Remove an alias (asks for confirmation)',
  access: 'change',
  options: {
    address: option.address('The alias to remove, or *@example.com for the catch-all', { suggest: aliasSuggestions }),
  },
  target: 'address',
  async confirm({ address }, context) {
    const operation = context.operation();
    const alias = parseAliasAddress(address, managedDomains(operation.config));
    const current = (await listAliases(operation, { domain: alias.domain })).aliases.find((entry) => entry.address === alias.address);
    if (!current) throw usageError('alias-not-found', `${alias.address} is not an alias; nothing was changed.`, 'List the aliases with /mail aliases.');
    const consequence = alias.local === '*' ? 'Mail to unknown addresses will bounce.' : 'Mail to it will bounce unless a catch-all takes it.';
    return `Remove the alias ${inlineCode(alias.address)} (→ ${inlineCode(current.targets.join(', '), 300)})? ${consequence}`;
  },
  async execute(context, { address }) {
    // Runs only after the invoker pressed Confirm.
    const result = await removeAlias(context.operation(), { address, confirmed: true });
    return { embeds: [{ title: `Removed alias ${result.address}`, color: colours.ok, description: 'chasquid picks up the change within 30 seconds.' }] };
  },
});
