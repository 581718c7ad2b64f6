// user-remove <address> — remove a sender, after confirmation.

import { colours } from '../src/bot/render.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { senderSuggestions } from '../src/command/suggestions.ts';
import { confirmationQuestion } from '../src/ops/confirmation.ts';
import { removeSender } from '../src/ops/senders.ts';

export default defineCommand({
  name: 'user-remove',
  description: 'Remove a sender (asks for confirmation)',
  access: 'change',
  options: {
    address: option.address('The sender to remove', { suggest: senderSuggestions }),
  },
  target: 'address',
  confirm: ({ address }, { operation, show }) => confirmationQuestion(operation, { operation: 'user-remove', address }, show),
  run: (context, { address }) => removeSender(context.operation(), { address, confirmed: context.confirmed }),
  render: {
    text: (result) => `Removed sender ${result.address}; it can no longer log in once chasquid reloads (within 30 seconds).`,
    discord: (result) => ({
      embeds: [
        {
          title: `Removed sender ${result.address}`,
          color: colours.ok,
          description: 'It can no longer log in once chasquid reloads (within 30 seconds).',
        },
      ],
    }),
  },
});
