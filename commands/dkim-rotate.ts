// dkim-rotate <domain> [--algo] — new DKIM key and selector, published in DNS, activated once visible; asks for
// confirmation. With DNS_PROVIDER=manual the record to publish is shown (Discord: with a "Published" button; command
// line: Enter, or --wait to poll DNS).

import { dkimAlgorithms } from '../src/chasquid/dkim-key.ts';
import { renderRotation } from '../src/cli/text/dkim.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';
import { domainSuggestions } from '../src/command/suggestions.ts';
import { confirmationQuestion } from '../src/ops/confirmation.ts';

export default defineCommand({
  name: 'dkim-rotate',
  description: 'New DKIM key and selector, published in DNS, activated once visible',
  access: 'change',
  options: {
    domain: option.domain('The domain whose DKIM key is replaced', domainSuggestions),
    algo: option.choice('Key type (default rsa2048)', dkimAlgorithms),
  },
  target: 'domain',
  publishesDns: true,
  confirm: ({ domain, algo }, { operation, show }) =>
    confirmationQuestion(operation, { operation: 'dkim-rotate', domain, ...(algo === undefined ? {} : { algorithm: algo }) }, show),
  working: 'Rotating the DKIM key…',
  async run(context, { domain, algo }) {
    // Loaded when used: mailauth and the probe would slow every other command's start.
    const { dkimRotate } = await import('../src/ops/dkim-rotate.ts');
    return dkimRotate(context.operation(), {
      domain,
      ...(algo === undefined ? {} : { algorithm: algo }),
      publishing: () => context.publishing(),
      progress: (text) => context.progress(text),
    });
  },
  render: {
    text: renderRotation,
    discord: async (result) => ({ embeds: [(await import('../src/bot/dkim-embeds.ts')).rotationEmbed(result)] }),
  },
});
