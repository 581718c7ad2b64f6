// alias-set <address> <targets> — create or replace an alias; *@domain is the catch-all. Replacing an existing
// catch-all, or an alias that takes over a sender's mail, asks first (src/ops/confirmation.ts).

import { changeNotes, colours } from '../src/bot/render.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { aliasSuggestions } from '../src/command/suggestions.ts';
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
  confirm: ({ address, targets }, { operation, show }) =>
    confirmationQuestion(operation, { operation: 'alias-set', address, targets }, show),
  run: (context, { address, targets }) => setAlias(context.operation(), { address, targets }),
  render: {
    text(result) {
      const lines = [`${result.address} → ${result.targets.join(', ')}${result.previous ? ` (was: ${result.previous.join(', ')})` : ''}`];
      if (result.restarted) lines.push('chasquid was restarted to load the new domain.');
      for (const repair of result.repaired) lines.push(`Repaired so that chasquid can read it: ${repair}`);
      for (const warning of result.warnings) lines.push(`Warning: ${warning}`);
      lines.push('chasquid picks up the change within 30 seconds.');
      return lines.join('\n');
    },
    discord(result) {
      const previous = result.previous === undefined ? '' : `Was: ${result.previous.join(', ')}\n`;
      return {
        embeds: [
          {
            title: `${result.address} → ${result.targets.join(', ')}`,
            color: result.warnings.length > 0 ? colours.warn : colours.ok,
            description: `${previous}${changeNotes(result)}`,
          },
        ],
      };
    },
  },
});
