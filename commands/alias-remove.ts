// /mail alias-remove address:<address> — remove an alias, after Confirm.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { colours, inlineCode } from '../src/bot/render.ts';
import { aliasSuggestions } from '../src/bot/suggestions.ts';
import { removeAlias } from '../src/ops/aliases.ts';
import { confirmationQuestion } from '../src/ops/confirmation.ts';

export default defineCommand({
  name: 'alias-remove',
  description: 'Remove an alias (asks for confirmation)',
  access: 'change',
  options: {
    address: option.address('The alias to remove, or *@example.com for the catch-all', { suggest: aliasSuggestions }),
  },
  target: 'address',
  confirm: ({ address }, context) => confirmationQuestion(context.operation(), { operation: 'alias-remove', address }, inlineCode),
  async execute(context, { address }) {
    // Runs only after the invoker pressed Confirm.
    const result = await removeAlias(context.operation(), { address, confirmed: true });
    return { embeds: [{ title: `Removed alias ${result.address}`, color: colours.ok, description: 'chasquid picks up the change within 30 seconds.' }] };
  },
});
