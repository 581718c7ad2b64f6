// check <domain> — the deliverability report; exit 1 when a check fails. Discord shows progress while the checks run.

import { renderCheckReport } from '../src/cli/text/check-report.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { domainSuggestions } from '../src/command/suggestions.ts';

export default defineCommand({
  name: 'check',
  description: 'The deliverability report for a domain',
  access: 'read',
  options: {
    domain: option.domain('The domain to check', domainSuggestions),
  },
  working: 'Running the checks (DNS, TLS, blocklists, and a test message through the host)…',
  async run(context, { domain }) {
    // Loaded when used: the checks bring mailauth and its dependencies, which every other command would pay for at start-up.
    const { check } = await import('../src/ops/check.ts');
    return check(context.operation(), { domain });
  },
  render: {
    text: (report, { columns }) => renderCheckReport(report, columns),
    exitCode: (report) => (report.ok ? 0 : 1),
    discord: async (report) => ({ embeds: [(await import('../src/bot/check-embed.ts')).checkEmbed(report)] }),
  },
});
