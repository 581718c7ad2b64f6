// /mail dns-diff domain:<domain> [accept] — expected DNS records against what DNS answers now; `accept` records the
// current answers as the accepted state (a change: admin role, audited).

import { defineCommand } from '../src/bot/command.ts';
import { driftEmbed } from '../src/bot/drift-embed.ts';
import { option } from '../src/bot/options.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';

export default defineCommand({
  name: 'dns-diff',
  description: 'Expected DNS records against what DNS answers now',
  access: 'read',
  options: {
    domain: option.domain('The domain', domainSuggestions),
    accept: option.flag('Record the current answers as the accepted state'),
  },
  changes: ({ accept }) => accept,
  target: 'domain',
  working: 'Asking DNS for the records of the domain…',
  async execute(context, { domain, accept }) {
    // Loaded when used, as in the CLI: the SPF evaluation brings mailauth.
    const { dnsDiff } = await import('../src/ops/dns-diff.ts');
    const result = await dnsDiff(context.operation(), { domain, accept });
    return { embeds: [driftEmbed(result)] };
  },
});
