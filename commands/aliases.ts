// /mail aliases [domain] — list aliases.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { colours } from '../src/bot/render.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';
import { listAliases } from '../src/ops/aliases.ts';

export default defineCommand({
  name: 'aliases',
  description: 'List aliases and where they forward',
  access: 'read',
  options: {
    domain: option.optionalDomain('Only this domain', domainSuggestions),
  },
  async execute(context, { domain }) {
    const { aliases } = await listAliases(context.operation(), domain === undefined ? {} : { domain });
    return {
      embeds: [{
        title: domain === undefined ? 'Aliases' : `Aliases of ${domain}`,
        color: colours.info,
        description: aliases.length === 0 ? 'No aliases.' : aliases.map((alias) => `${alias.address} → ${alias.targets.join(', ')}`).join('\n'),
        footer: { text: `${aliases.length} alias(es)` },
      }],
    };
  },
});
