// users [domain] — list senders (SMTP AUTH users).

import { colours } from '../src/bot/render.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { domainSuggestions } from '../src/command/suggestions.ts';
import { listSenders } from '../src/ops/senders.ts';

export default defineCommand({
  name: 'users',
  description: 'List senders (SMTP AUTH users)',
  access: 'read',
  options: {
    domain: option.optionalDomain('Only this domain', domainSuggestions),
  },
  run: async (context, { domain }) => ({ domain, ...(await listSenders(context.operation(), domain === undefined ? {} : { domain })) }),
  render: {
    json: ({ domain: _domain, ...result }) => result,
    text(result) {
      const owned = new Set(result.mailopsOwned);
      return result.users.length === 0
        ? 'No senders.'
        : result.users.map((user) => (owned.has(user) ? `${user}  (mailops's own)` : user)).join('\n');
    },
    discord: ({ domain, users }) => ({
      embeds: [
        {
          title: domain === undefined ? 'Senders' : `Senders of ${domain}`,
          color: colours.info,
          description: users.length === 0 ? 'No senders.' : users.join('\n'),
          footer: { text: `${users.length} sender(s)` },
        },
      ],
    }),
  },
});
