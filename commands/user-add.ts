// /mail user-add address:<address> [type-password] — add a sender (SMTP AUTH user). The password is generated and
// shown only to the invoker, unless they choose to type one in a private form.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { passwordReply } from '../src/bot/render.ts';
import { addSender } from '../src/ops/senders.ts';

export default defineCommand({
  name: 'user-add',
  description: 'Add a sender (SMTP AUTH user) with a generated password',
  access: 'change',
  options: {
    address: option.address('The sender address, like i@example.com'),
    'type-password': option.flag('Type the password in a private form instead of generating one'),
  },
  target: 'address',
  visibility: 'private',
  askSecret: { when: (input) => input['type-password'], title: 'Password for the new sender', label: 'Password', minLength: 12, maxLength: 256 },
  async execute(context, { address }) {
    const result = await addSender(context.operation(), context.secret === undefined ? { address } : { address, password: context.secret });
    return passwordReply(result, `Added sender ${result.address}`);
  },
});
