// dns-diff <domain> [--accept] — the records a domain depends on, expected against what DNS answers now (exit 1 with
// drift); `accept` records the current answers as the accepted state (a change: admin role, audited).

import { driftEmbed } from '../src/bot/drift-embed.ts';
import { renderDnsDiff } from '../src/cli/text/dns-diff.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { domainSuggestions } from '../src/command/suggestions.ts';

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
  async run(context, { domain, accept }) {
    // Loaded when used: the operation brings the DNS checks and, through the orphan records, the ACME client.
    const { dnsDiff } = await import('../src/ops/dns-diff.ts');
    return dnsDiff(context.operation(), { domain, accept });
  },
  render: {
    // `domain` and `drift` first, as the interface shows them.
    json: ({ domain, drift, ...rest }) => ({ domain, drift, ...rest }),
    text: renderDnsDiff,
    exitCode: (result) => (result.drift.length > 0 ? 1 : 0),
    discord: (result) => ({ embeds: [driftEmbed(result)] }),
  },
});
