// cert-status — certificates on the host and the ones actually served on 25/465/587.

import { certificatesEmbed } from '../src/bot/certificate-embeds.ts';
import { renderCertificates } from '../src/cli/text/certificates.ts';
import { defineCommand } from '../src/command/definition.ts';

export default defineCommand({
  name: 'cert-status',
  description: 'Certificates on the host and the ones served on 25/465/587',
  access: 'read',
  options: {},
  working: 'Reading the certificates and connecting to each TLS listener…',
  async run(context) {
    // Loaded when used: the served chains bring the certificate parser.
    const { certStatus } = await import('../src/ops/cert-status.ts');
    return certStatus(context.operation());
  },
  render: {
    text: renderCertificates,
    discord: (result) => ({ embeds: [certificatesEmbed(result)] }),
  },
});
