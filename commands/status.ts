// status — the mail host at a glance: chasquid version, service state, domains, certificates, queue, last job runs.

import { statusEmbed } from '../src/bot/status-embed.ts';
import { renderStatus } from '../src/cli/text/status.ts';
import { defineCommand } from '../src/command/definition.ts';
import { status } from '../src/ops/status.ts';

export default defineCommand({
  name: 'status',
  description: 'Mail host summary: chasquid version, service, domains, certificates, queue',
  access: 'read',
  options: {},
  run: (context) => status(context.operation()),
  render: {
    text: renderStatus,
    discord: (result) => ({ embeds: [statusEmbed(result)] }),
  },
});
