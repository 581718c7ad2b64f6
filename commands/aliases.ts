// aliases [domain] — list aliases and where they forward.

import { colours } from '../src/bot/render.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { domainSuggestions } from '../src/command/suggestions.ts';
import { listAliases } from '../src/ops/aliases.ts';

export default defineCommand({
  name: 'aliases',
  description: 'List aliases and where they forward',
  access: 'read',
  options: {
    domain: option.optionalDomain('Only this domain', domainSuggestions),
  },
  run: async (context, { domain }) => ({ domain, ...(await listAliases(context.operation(), domain === undefined ? {} : { domain })) }),
  render: {
    json: ({ aliases }) => ({ aliases }),
    text({ aliases }) {
      const width = Math.max(0, ...aliases.map((alias) => alias.address.length));
      return aliases.length === 0
        ? 'No aliases.'
        : aliases
            .map((alias) => `${alias.address.padEnd(width)}  → ${alias.targets.join(', ')}${alias.mailopsOwned ? "  (mailops's own)" : ''}`)
            .join('\n');
    },
    discord: ({ domain, aliases }) => ({
      embeds: [
        {
          title: domain === undefined ? 'Aliases' : `Aliases of ${domain}`,
          color: colours.info,
          description:
            aliases.length === 0 ? 'No aliases.' : aliases.map((alias) => `${alias.address} → ${alias.targets.join(', ')}`).join('\n'),
          footer: { text: `${aliases.length} alias(es)` },
        },
      ],
    }),
  },
});
