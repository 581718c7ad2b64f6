// alias-remove <address> — remove an alias, after confirmation.

import { colours } from '../src/bot/render.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { aliasSuggestions } from '../src/command/suggestions.ts';
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
  confirm: ({ address }, { operation, show }) => confirmationQuestion(operation, { operation: 'alias-remove', address }, show),
  run: (context, { address }) => removeAlias(context.operation(), { address, confirmed: context.confirmed }),
  render: {
    text: (result) => `Removed alias ${result.address}.`,
    discord: (result) => ({
      embeds: [
        { title: `Removed alias ${result.address}`, color: colours.ok, description: 'chasquid picks up the change within 30 seconds.' },
      ],
    }),
  },
});
