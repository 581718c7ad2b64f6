// /mail passwd address:<address> [type-password] — set a new password for a sender (generated unless typed in a
// private form), shown only to the invoker.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { passwordReply } from '../src/bot/render.ts';
import { senderSuggestions } from '../src/bot/suggestions.ts';
import { changeSenderPassword } from '../src/ops/senders.ts';

export default defineCommand({
  name: 'passwd',
  description: 'Set a new password for a sender (generated unless you type one)',
  access: 'change',
  options: {
    address: option.address('The sender whose password changes', { suggest: senderSuggestions }),
    'type-password': option.flag('Type the password in a private form instead of generating one'),
  },
  target: 'address',
  visibility: 'private',
  askSecret: { when: (input) => input['type-password'], title: 'New password', label: 'Password', minLength: 12, maxLength: 256 },
  async execute(context, { address }) {
    const result = await changeSenderPassword(context.operation(), context.secret === undefined ? { address } : { address, password: context.secret });
    return passwordReply(result, `New password for ${result.address}`);
  },
});
