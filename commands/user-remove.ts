// /mail user-remove address:<address> — remove a sender, after Confirm.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { colours, inlineCode } from '../src/bot/render.ts';
import { senderSuggestions } from '../src/bot/suggestions.ts';
import { managedDomains } from '../src/ops/context.ts';
import { listSenders, removeSender } from '../src/ops/senders.ts';
import { usageError } from '../src/errors.ts';
import { parseManagedAddress } from '../src/validation/address.ts';

export default defineCommand({
  name: 'user-remove',
  description: 'Remove a sender (asks for confirmation)',
  access: 'change',
  options: {
    address: option.address('The sender to remove', { suggest: senderSuggestions }),
  },
  target: 'address',
  async confirm({ address }, context) {
    const operation = context.operation();
    const sender = parseManagedAddress(address, managedDomains(operation.config));
    if (!(await listSenders(operation, { domain: sender.domain })).users.includes(sender.address)) {
      throw usageError('sender-not-found', `${sender.address} is not a sender; nothing was changed.`, 'List the senders with /mail users.');
    }
    return `Remove the sender ${inlineCode(sender.address)}? Mail clients using its password will stop sending.`;
  },
  async execute(context, { address }) {
    // Runs only after the invoker pressed Confirm.
    const result = await removeSender(context.operation(), { address, confirmed: true });
    return { embeds: [{ title: `Removed sender ${result.address}`, color: colours.ok, description: 'It can no longer log in once chasquid reloads (within 30 seconds).' }] };
  },
});
