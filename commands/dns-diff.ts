// /mail dns-diff domain:<domain> [accept] — expected DNS records against what DNS answers now; `accept` records the
// current answers as the accepted state (a change).

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';

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
  // execute: wired when the DNS operation lands in src/ops.
});
