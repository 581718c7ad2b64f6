// user-add <address> — add a sender (SMTP AUTH user). The password is generated and shown once (in Discord only to
// the invoker), unless the person gives one: `--password-stdin`, or `type-password:true` and a private form.

import { passwordReply } from '../src/bot/render.ts';
import { renderPassword } from '../src/cli/text/password.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { addSender } from '../src/ops/senders.ts';

export default defineCommand({
  name: 'user-add',
  description: 'Add a sender (SMTP AUTH user) with a generated password',
  access: 'change',
  options: {
    address: option.address('The sender address, like i@example.com'),
  },
  target: 'address',
  visibility: 'private',
  secret: { title: 'Password for the new sender', label: 'Password', minLength: 12, maxLength: 256 },
  run: (context, { address }) =>
    addSender(context.operation(), context.secret === undefined ? { address } : { address, password: context.secret }),
  render: {
    text: (result) => renderPassword(result, 'Added sender'),
    discord: (result) => passwordReply(result, `Added sender ${result.address}`),
  },
});
