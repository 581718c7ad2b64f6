// setup <domain> [--forward-to <address>] [--sender <address>] — set a domain up from zero: DNS records (merged, never
// clobbered), the certificate, the domain directory, the first sender, postmaster/abuse and the catch-all, a DKIM key,
// then the check. Always asks first, with the plan as the question (Discord: Confirm; command line: --yes). The
// sender's generated password is shown once: on the command line's output, in Discord only in the invoker's private
// reply.

import { renderCheckReport } from '../src/cli/text/check-report.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { domainSuggestions } from '../src/command/suggestions.ts';
import { confirmationQuestion } from '../src/ops/confirmation.ts';
import type { SetupResult } from '../src/ops/setup.ts';

const marks = { done: '✅ done', unchanged: '➖ unchanged', 'needs-you': '⚠️ needs you' } as const;

function stepLines(result: SetupResult): string[] {
  return result.steps.map((step) => `${marks[step.status]}  ${step.id}: ${step.detail}`);
}

export default defineCommand({
  name: 'setup',
  description: 'Set a domain up from zero: DNS, certificate, aliases, catch-all, DKIM, first sender, check',
  access: 'change',
  options: {
    domain: option.domain('The domain to set up', domainSuggestions),
    'forward-to': option.optionalAddress('Where postmaster, abuse and the catch-all forward (a personal mailbox)'),
    sender: option.optionalAddress('The first sender to create, like me@example.com (password generated, shown once)'),
  },
  target: 'domain',
  publishesDns: true,
  confirm: ({ domain, 'forward-to': forwardTo, sender }, { operation, show }) =>
    confirmationQuestion(
      operation,
      { operation: 'setup', domain, ...(forwardTo === undefined ? {} : { forwardTo }), ...(sender === undefined ? {} : { sender }) },
      show
    ),
  working: 'Setting the domain up…',
  async run(context, { domain, 'forward-to': forwardTo, sender }) {
    // Loaded when used: setup brings every operation (ACME, DKIM, the checks) with it.
    const { setup } = await import('../src/ops/setup.ts');
    return setup(context.operation(), {
      domain,
      ...(forwardTo === undefined ? {} : { forwardTo }),
      ...(sender === undefined ? {} : { sender }),
      publishing: () => context.publishing(),
      progress: (text) => context.progress(text),
    });
  },
  render: {
    text(result, { columns }) {
      return [
        `Set-up of ${result.domain} (mail host ${result.hostname}):`,
        ...stepLines(result),
        ...(result.password ? [`Password of ${result.password.address} (shown once, store it now): ${result.password.password}`] : []),
        '',
        renderCheckReport(result.check, columns),
        ...(result.remaining.length > 0 ? ['', 'Still yours to do:', ...result.remaining.map((line) => `- ${line}`)] : []),
      ].join('\n');
    },
    exitCode: (result) => (result.ok ? 0 : 1),
    async discord(result) {
      const { checkEmbed } = await import('../src/bot/check-embed.ts');
      const { colours } = await import('../src/bot/render.ts');
      const worst = result.steps.some((step) => step.status === 'needs-you') ? colours.warn : colours.ok;
      return {
        embeds: [
          {
            title: `Set-up of ${result.domain}`,
            color: worst,
            description: [
              ...stepLines(result),
              ...(result.remaining.length > 0 ? ['', '**Still yours to do:**', ...result.remaining.map((line) => `- ${line}`)] : []),
            ]
              .join('\n')
              .slice(0, 4000),
          },
          checkEmbed(result.check),
        ],
        ...(result.password ? { secret: { label: `Password for ${result.password.address}`, value: result.password.password } } : {}),
      };
    },
  },
});
