// /mail passwd address:<address> [type-password] — set a new password for a sender (generated unless typed in a
// private form), shown only to the invoker.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';

export default defineCommand({
  name: 'passwd',
  description: 'Set a new password for a sender (generated unless you type one)',
  access: 'change',
  options: {
    address: option.address('The sender whose password changes'),
    'type-password': option.flag('Type the password in a private form instead of generating one'),
  },
  target: 'address',
  visibility: 'private',
  askSecret: { when: (input) => input['type-password'], title: 'New password', label: 'Password', minLength: 12, maxLength: 128 },
  // execute: wired when the users operation lands in src/ops.
});
