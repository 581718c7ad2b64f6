// /mail user-remove address:<address> — remove a sender, after Confirm.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';

export default defineCommand({
  name: 'user-remove',
  description: 'Remove a sender (asks for confirmation)',
  access: 'change',
  options: {
    address: option.address('The sender to remove'),
  },
  target: 'address',
  confirm: ({ address }) => `Remove the sender **${address}**? Mail clients using its password will stop sending.`,
  // execute: wired when the users operation lands in src/ops.
});
