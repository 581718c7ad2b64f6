// passwd <address> — set a new password for a sender: generated and shown once (in Discord only to the invoker),
// unless the person gives one: `--password-stdin`, or `type-password:true` and a private form.

import { passwordReply } from '../src/bot/render.ts';
import { renderPassword } from '../src/cli/text/password.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { senderSuggestions } from '../src/command/suggestions.ts';
import { changeSenderPassword } from '../src/ops/senders.ts';

export default defineCommand({
  name: 'passwd',
  description: 'Set a new password for a sender (generated unless you type one)',
  access: 'change',
  options: {
    address: option.address('The sender whose password changes', { suggest: senderSuggestions }),
  },
  target: 'address',
  visibility: 'private',
  secret: { title: 'New password', label: 'Password', minLength: 12, maxLength: 256 },
  run: (context, { address }) =>
    changeSenderPassword(context.operation(), context.secret === undefined ? { address } : { address, password: context.secret }),
  render: {
    text: (result) => renderPassword(result, 'Changed the password of'),
    discord: (result) => passwordReply(result, `New password for ${result.address}`),
  },
});
