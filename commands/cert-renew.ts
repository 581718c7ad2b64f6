// cert-renew [--force] — obtain a certificate from the ACME CA (DNS-01) and install it on the mail host; shows
// progress. With DNS_PROVIDER=manual each challenge record is shown to publish by hand.

import { renewalEmbed } from '../src/bot/certificate-embeds.ts';
import { renderRenewal } from '../src/cli/text/certificates.ts';
import { defineCommand } from '../src/command/definition.ts';
import { option } from '../src/command/options.ts';

export default defineCommand({
  name: 'cert-renew',
  description: 'Obtain a certificate from the ACME CA (DNS-01) and install it',
  access: 'change',
  options: {
    force: option.flag('Renew even when the certificate is not due'),
  },
  publishesDns: true,
  working: 'Checking whether the certificate is due…',
  async run(context, { force }) {
    // Loaded when used: acme-client is not needed for anything else.
    const { certRenew } = await import('../src/ops/cert-renew.ts');
    return certRenew(context.operation(), { force, publishing: () => context.publishing(), progress: (text) => context.progress(text) });
  },
  render: {
    text: renderRenewal,
    discord: (result) => ({ embeds: [renewalEmbed(result)] }),
  },
});
