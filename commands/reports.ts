// reports [domain] [--since 7d] — what receivers reported (DMARC aggregate and TLS reports) and how deliveries went,
// per domain, over the period. Read-only: it shows what the reports job stored (run-job reports fetches news first).

import { reportsEmbeds } from '../src/bot/reports-embed.ts';
import { reportsText } from '../src/cli/text/reports.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { domainSuggestions } from '../src/command/suggestions.ts';
import { reportsSummary } from '../src/ops/reports.ts';

export default defineCommand({
  name: 'reports',
  description: 'DMARC and TLS report summaries and delivery results of the period',
  access: 'read',
  options: {
    domain: option.optionalDomain('Only this domain', domainSuggestions),
    since: option.period('The period: 24h, 7d (default), 4w'),
  },
  run: async (context, { domain, since }) => ({
    single: domain !== undefined,
    result: await reportsSummary(context.operation(), {
      ...(domain === undefined ? {} : { domain }),
      ...(since === undefined ? {} : { since }),
    }),
  }),
  render: {
    // One domain: that domain's summary (with the queue's stuck count); all: each domain's.
    json: ({ single, result }) => (single && result.domains[0] !== undefined ? { ...result.domains[0], stuck: result.stuck } : result),
    text: ({ result }) => reportsText(result),
    discord: ({ result }) => ({ embeds: reportsEmbeds(result) }),
  },
});
