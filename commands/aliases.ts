// /mail aliases [domain] — list aliases.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';

export default defineCommand({
  name: 'aliases',
  description: 'List aliases and where they forward',
  access: 'read',
  options: {
    domain: option.optionalDomain('Only this domain', domainSuggestions),
  },
  // execute: wired when the aliases operation lands in src/ops.
});
