// /mail alias-set address:<address> targets:<a, b> — create or replace an alias; *@domain is the catch-all.
// Replacing an existing catch-all, or an alias that takes over a sender's mail, asks first (src/ops/confirmation.ts).

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { changeNotes, colours, inlineCode } from '../src/bot/render.ts';
import { aliasSuggestions } from '../src/bot/suggestions.ts';
import { setAlias } from '../src/ops/aliases.ts';
import { confirmationQuestion } from '../src/ops/confirmation.ts';

export default defineCommand({
  name: 'alias-set',
  description: 'Create or replace an alias; *@domain is the catch-all',
  access: 'change',
  options: {
    address: option.address('The alias, like sales@example.com, or *@example.com for the catch-all', { suggest: aliasSuggestions }),
    targets: option.text('Where mail goes: addresses, comma-separated'),
  },
  target: 'address',
  confirm: ({ address, targets }, context) => confirmationQuestion(context.operation(), { operation: 'alias-set', address, targets }, inlineCode),
  async execute(context, { address, targets }) {
    const result = await setAlias(context.operation(), { address, targets });
    const previous = result.previous === undefined ? '' : `Was: ${result.previous.join(', ')}\n`;
    return {
      embeds: [{ title: `${result.address} → ${result.targets.join(', ')}`, color: result.warnings.length > 0 ? colours.warn : colours.ok, description: `${previous}${changeNotes(result)}` }],
    };
  },
});
