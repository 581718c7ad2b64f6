// dkim-show <domain> — DKIM selectors, their DNS records, and whether each is published and active.

import { renderSelectors } from '../src/cli/text/dkim.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { domainSuggestions } from '../src/command/suggestions.ts';

export default defineCommand({
  name: 'dkim-show',
  description: 'DKIM selectors, their DNS records, published and active',
  access: 'read',
  options: {
    domain: option.domain('The domain', domainSuggestions),
  },
  async run(context, { domain }) {
    // Loaded when used, as the other DKIM operations.
    const { dkimShow } = await import('../src/ops/dkim-show.ts');
    return dkimShow(context.operation(), { domain });
  },
  render: {
    text: (result) => renderSelectors(result),
    discord: async (result) => ({ embeds: [(await import('../src/bot/dkim-embeds.ts')).selectorsEmbed(result)] }),
  },
});
