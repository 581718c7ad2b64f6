// /mail users [domain] — list senders.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';

export default defineCommand({
  name: 'users',
  description: 'List senders (SMTP AUTH users)',
  access: 'read',
  options: {
    domain: option.optionalDomain('Only this domain', domainSuggestions),
  },
  // execute: wired when the users operation lands in src/ops.
});
