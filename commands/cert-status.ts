// /mail cert-status — certificates on the host and the ones served on 25/465/587.

import { defineCommand } from '../src/bot/command.ts';

export default defineCommand({
  name: 'cert-status',
  description: 'Certificates on the host and the ones served on 25/465/587',
  access: 'read',
  options: {},
  // execute: wired when the certificate operation lands in src/ops.
});
