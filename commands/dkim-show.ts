// /mail dkim-show domain:<domain> — selectors, their DNS records, whether each is published and active.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';

export default defineCommand({
  name: 'dkim-show',
  description: 'DKIM selectors, their DNS records, published and active',
  access: 'read',
  options: {
    domain: option.domain('The domain', domainSuggestions),
  },
  async execute(context, { domain }) {
    // Loaded when used, as in the CLI.
    const [{ dkimShow }, { selectorsEmbed }] = await Promise.all([import('../src/ops/dkim-show.ts'), import('../src/bot/dkim-embeds.ts')]);
    return { embeds: [selectorsEmbed(await dkimShow(context.operation(), { domain }))] };
  },
});
