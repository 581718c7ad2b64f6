// /mail alias-set address:<address> targets:<a, b> — create or replace an alias; *@domain is the catch-all, and
// replacing an existing catch-all asks for confirmation first.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';

export default defineCommand({
  name: 'alias-set',
  description: 'Create or replace an alias; *@domain is the catch-all',
  access: 'change',
  options: {
    address: option.address('The alias, like sales@example.com, or *@example.com for the catch-all'),
    targets: option.text('Where mail goes: addresses, comma-separated'),
  },
  target: 'address',
  // confirm: when address is *@domain and the domain has a catch-all already (ask the aliases operation), return
  // `Replace the catch-all of <domain> (now → <targets>)?`; otherwise undefined.
  // execute: wired when the aliases operation lands in src/ops.
});
