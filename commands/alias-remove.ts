// /mail alias-remove address:<address> — remove an alias, after Confirm.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';

export default defineCommand({
  name: 'alias-remove',
  description: 'Remove an alias (asks for confirmation)',
  access: 'change',
  options: {
    address: option.address('The alias to remove, or *@example.com for the catch-all'),
  },
  target: 'address',
  confirm: ({ address }) => `Remove the alias **${address}**? Mail to it will bounce unless a catch-all takes it.`,
  // execute: wired when the aliases operation lands in src/ops.
});
