// start — run the bot (Discord client and scheduler) until SIGTERM or SIGINT; `npm start` does the same. Command line
// only: it is what runs the Discord front.

import { startBotUntilSignal } from '../src/cli/start.ts';
import { defineCommand } from '../src/command/definition.ts';

export default defineCommand({
  name: 'start',
  description: 'Run the bot (Discord client and scheduler) until SIGTERM or SIGINT',
  fronts: ['cli'],
  access: 'read',
  options: {},
  run: (context) => startBotUntilSignal(context.runtime),
  render: {
    text: (result) => `mailops bot stopped (${result.stopped})`,
  },
});
