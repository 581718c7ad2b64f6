// /mail check domain:<domain> — the deliverability report; shows progress while the checks run.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';
import { domainSuggestions } from '../src/bot/suggestions.ts';

export default defineCommand({
  name: 'check',
  description: 'The deliverability report for a domain',
  access: 'read',
  options: {
    domain: option.domain('The domain to check', domainSuggestions),
  },
  working: 'Running the checks…',
  // execute: wired when the checks land in src/ops (pass context.progress).
});
