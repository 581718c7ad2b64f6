// /mail dkim-rotate domain:<domain> [algo] — new DKIM key and selector, published in DNS, activated once visible;
// asks for confirmation, shows progress while DNS propagates.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { inlineCode } from '../src/bot/render.ts';
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
  confirm: ({ domain, algo }) => `Rotate the DKIM key of ${inlineCode(domain)} (${algo ?? 'rsa2048'})? The old key stays published for the grace period.`,
  working: 'Rotating the DKIM key…',
  // execute: wired when the DKIM operation lands in src/ops (pass context.progress for the DNS steps).
});
