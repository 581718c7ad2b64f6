// /mail users [domain] — list senders.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { colours } from '../src/bot/render.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';
import { listSenders } from '../src/ops/senders.ts';

export default defineCommand({
  name: 'users',
  description: 'List senders (SMTP AUTH users)',
  access: 'read',
  options: {
    domain: option.optionalDomain('Only this domain', domainSuggestions),
  },
  async execute(context, { domain }) {
    const { users } = await listSenders(context.operation(), domain === undefined ? {} : { domain });
    return {
      embeds: [{
        title: domain === undefined ? 'Senders' : `Senders of ${domain}`,
        color: colours.info,
        description: users.length === 0 ? 'No senders.' : users.join('\n'),
        footer: { text: `${users.length} sender(s)` },
      }],
    };
  },
});
