// /mail dkim-retire domain:<domain> [prune] — retire the domain's old DKIM keys whose grace period is over; with
// `prune`, also remove the orphan DKIM and ACME challenge records that dkim-show and dns-diff list (after Confirm).

import { defineCommand } from '../src/bot/command.ts';
import { publishingFor } from '../src/bot/dns-publishing.ts';
import { option } from '../src/bot/options.ts';
import { colours, inlineCode } from '../src/bot/render.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';
import { confirmationQuestion } from '../src/ops/confirmation.ts';

export default defineCommand({
  name: 'dkim-retire',
  description: 'Retire old DKIM keys that are due; prune removes orphan DKIM and ACME challenge records',
  access: 'change',
  options: {
    domain: option.domain('The domain', domainSuggestions),
    prune: option.flag('Also remove the orphan records dkim-show and dns-diff list (asks for confirmation)'),
  },
  target: 'domain',
  confirm: ({ domain, prune }, context) => confirmationQuestion(context.operation(), { operation: 'dkim-retire', domain, prune }, inlineCode),
  working: 'Retiring DKIM keys…',
  async execute(context, { domain, prune }) {
    const { dkimRetireDomain } = await import('../src/ops/dkim-retire.ts');
    // Runs only after the invoker pressed Confirm (when pruning).
    const result = await dkimRetireDomain(context.operation(), { domain, prune, confirmed: true, publishing: () => publishingFor(context) });
    const failed = [...result.failed.map((entry) => `${entry.selector}: ${entry.error}`), ...(result.pruned?.failed ?? []).map((entry) => `${entry.name}: ${entry.error}`)];
    const lines = [
      `Retired: ${result.retired.map((entry) => entry.selector).join(', ') || 'nothing due'}`,
      ...(result.pruned ? [`Pruned: ${result.pruned.removed.map((orphan) => inlineCode(orphan.name)).join(', ') || 'no orphan records were found'}`] : []),
      ...failed.map((line) => `Failed: ${line}`),
    ];
    return { embeds: [{ title: `DKIM retirement of ${result.domain}`, color: failed.length > 0 ? colours.fail : colours.ok, description: lines.join('\n') }] };
  },
});
