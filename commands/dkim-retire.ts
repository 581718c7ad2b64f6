// dkim-retire <domain> [--prune] — retire the domain's old DKIM keys whose grace period is over; with `prune`, also
// remove the orphan DKIM and ACME challenge records that dkim-show and dns-diff list (after confirmation).

import { colours, inlineCode } from '../src/bot/render.ts';
import { renderRetire } from '../src/cli/text/dkim.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { domainSuggestions } from '../src/command/suggestions.ts';
import { confirmationQuestion } from '../src/ops/confirmation.ts';
import type { DkimRetireCommandResult } from '../src/ops/dkim-retire.ts';

const failures = (result: DkimRetireCommandResult) => [
  ...result.failed.map((entry) => `${entry.selector}: ${entry.error}`),
  ...(result.pruned?.failed ?? []).map((entry) => `${entry.name}: ${entry.error}`),
];

export default defineCommand({
  name: 'dkim-retire',
  description: 'Retire old DKIM keys that are due; prune removes orphan DKIM and ACME challenge records',
  access: 'change',
  options: {
    domain: option.domain('The domain', domainSuggestions),
    prune: option.flag('Also remove the orphan records dkim-show and dns-diff list (asks for confirmation)'),
  },
  target: 'domain',
  publishesDns: true,
  confirm: ({ domain, prune }, { operation, show }) => confirmationQuestion(operation, { operation: 'dkim-retire', domain, prune }, show),
  working: 'Retiring DKIM keys…',
  async run(context, { domain, prune }) {
    const { dkimRetireDomain } = await import('../src/ops/dkim-retire.ts');
    return dkimRetireDomain(context.operation(), { domain, prune, confirmed: context.confirmed, publishing: () => context.publishing() });
  },
  render: {
    text: renderRetire,
    exitCode: (result) => (failures(result).length > 0 ? 1 : 0),
    discord(result) {
      const failed = failures(result);
      const lines = [
        `Retired: ${result.retired.map((entry) => entry.selector).join(', ') || 'nothing due'}`,
        ...(result.pruned
          ? [`Pruned: ${result.pruned.removed.map((orphan) => inlineCode(orphan.name)).join(', ') || 'no orphan records were found'}`]
          : []),
        ...failed.map((line) => `Failed: ${line}`),
      ];
      return {
        embeds: [
          {
            title: `DKIM retirement of ${result.domain}`,
            color: failed.length > 0 ? colours.fail : colours.ok,
            description: lines.join('\n'),
          },
        ],
      };
    },
  },
});
