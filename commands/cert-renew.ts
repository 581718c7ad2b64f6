// /mail cert-renew [force] — obtain a certificate from the ACME CA (DNS-01) and install it; shows progress. With
// DNS_PROVIDER=manual the reply shows each challenge record to publish with a "Published" button.

import { renewalEmbed } from '../src/bot/certificate-embeds.ts';
import { defineCommand } from '../src/bot/command.ts';
import { publishingFor } from '../src/bot/dns-publishing.ts';
import { option } from '../src/bot/options.ts';

export default defineCommand({
  name: 'cert-renew',
  description: 'Obtain a certificate from the ACME CA (DNS-01) and install it',
  access: 'change',
  options: {
    force: option.flag('Renew even when the certificate is not due'),
  },
  working: 'Checking whether the certificate is due…',
  async execute(context, { force }) {
    // Loaded when used, as in the CLI: acme-client is not needed for anything else.
    const { certRenew } = await import('../src/ops/cert-renew.ts');
    const result = await certRenew(context.operation(), { force, publishing: () => publishingFor(context), progress: (text) => context.progress(text) });
    return { embeds: [renewalEmbed(result)] };
  },
});
