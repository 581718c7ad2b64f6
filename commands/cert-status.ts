// /mail cert-status — certificates on the host and the ones served on 25/465/587.

import { certificatesEmbed } from '../src/bot/certificate-embeds.ts';
import { defineCommand } from '../src/bot/command.ts';

export default defineCommand({
  name: 'cert-status',
  description: 'Certificates on the host and the ones served on 25/465/587',
  access: 'read',
  options: {},
  working: 'Reading the certificates and connecting to each TLS listener…',
  async execute(context) {
    // Loaded when used, as in the CLI.
    const { certStatus } = await import('../src/ops/cert-status.ts');
    return { embeds: [certificatesEmbed(await certStatus(context.operation()))] };
  },
});
