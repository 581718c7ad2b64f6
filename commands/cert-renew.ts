// /mail cert-renew [force] — obtain a certificate from the ACME CA (DNS-01) and install it; shows progress.

import { defineCommand } from '../src/bot/command.ts';
import { option } from '../src/bot/options.ts';

export default defineCommand({
  name: 'cert-renew',
  description: 'Obtain a certificate from the ACME CA (DNS-01) and install it',
  access: 'change',
  options: {
    force: option.flag('Renew even when the certificate is not due'),
  },
  working: 'Renewing the certificate…',
  // execute: wired when the certificate operation lands in src/ops (pass context.progress for the ACME steps).
});
