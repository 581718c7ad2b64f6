// /mail check domain:<domain> — the deliverability report; shows progress while the checks run.

import { checkEmbed } from '../src/bot/check-embed.ts';
import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';

export default defineCommand({
  name: 'check',
  description: 'The deliverability report for a domain',
  access: 'read',
  options: {
    domain: option.domain('The domain to check', domainSuggestions),
  },
  working: 'Running the checks (DNS, TLS, blocklists, and a test message through the host)…',
  async execute(context, { domain }) {
    // Loaded when used, as in the CLI: mailauth and the checks are not needed for anything else.
    const { check } = await import('../src/ops/check.ts');
    const operation = context.operation();
    const report = await check({ host: operation.host, config: operation.config, domain, now: operation.now(), operation });
    return { embeds: [checkEmbed(report)] };
  },
});
