// /mail user-remove address:<address> — remove a sender, after Confirm.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { colours, inlineCode } from '../src/bot/render.ts';
import { senderSuggestions } from '../src/bot/suggestions.ts';
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
  confirm: ({ address }, context) => confirmationQuestion(context.operation(), { operation: 'user-remove', address }, inlineCode),
  async execute(context, { address }) {
    // Runs only after the invoker pressed Confirm.
    const result = await removeSender(context.operation(), { address, confirmed: true });
    return { embeds: [{ title: `Removed sender ${result.address}`, color: colours.ok, description: 'It can no longer log in once chasquid reloads (within 30 seconds).' }] };
  },
});
