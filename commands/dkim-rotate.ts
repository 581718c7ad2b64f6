// /mail dkim-rotate domain:<domain> [algo] — new DKIM key and selector, published in DNS, activated once visible;
// asks for confirmation, shows progress while DNS propagates. With DNS_PROVIDER=manual the reply shows the record to
// publish with a "Published" button.

import { defineCommand } from '../src/bot/command.ts';
import { publishingFor } from '../src/bot/dns-publishing.ts';
import { option } from '../src/bot/options.ts';
import { inlineCode } from '../src/bot/render.ts';
import { confirmationQuestion } from '../src/ops/confirmation.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';

export default defineCommand({
  name: 'dkim-rotate',
  description: 'New DKIM key and selector, published in DNS, activated once visible',
  access: 'change',
  options: {
    domain: option.domain('The domain whose DKIM key is replaced', domainSuggestions),
    algo: option.choice('Key type (default rsa2048)', ['rsa2048', 'rsa3072', 'ed25519']),
  },
  target: 'domain',
  async confirm({ domain, algo }, context) {
    const question = await confirmationQuestion(context.operation(), { operation: 'dkim-rotate', domain, ...(algo === undefined ? {} : { algorithm: algo }) }, inlineCode);
    return `${question ?? ''}${context.runtime.config.DNS_PROVIDER === 'manual' ? ' DNS is published by hand here (DNS_PROVIDER=manual): you will be shown the record to publish.' : ''}`;
  },
  working: 'Rotating the DKIM key…',
  async execute(context, { domain, algo }) {
    // Loaded when used, as in the CLI: mailauth and the probe are not needed for anything else.
    const [{ dkimRotate }, { rotationEmbed }] = await Promise.all([import('../src/ops/dkim-rotate.ts'), import('../src/bot/dkim-embeds.ts')]);
    const result = await dkimRotate(context.operation(), {
      domain,
      ...(algo === undefined ? {} : { algorithm: algo }),
      publishing: () => publishingFor(context),
      progress: (text) => context.progress(text),
    });
    return { embeds: [rotationEmbed(result)] };
  },
});
