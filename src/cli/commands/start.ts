// `mailops start` (and `npm start`): runs the bot until SIGTERM or SIGINT, then stops it cleanly — in-flight
// interactions may finish, the client disconnects, and the CLI closes the SSH connection and the state database.

import { requireSettings } from '../../config.ts';
import type { CliCommand } from '../command.ts';

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'run the bot (Discord client and scheduler) until SIGTERM or SIGINT',
  arguments: [],
  options: [],
  async run({ runtime }) {
    requireSettings(runtime.config, 'discord', 'Running the bot');
    requireSettings(runtime.config, 'host', 'Running the bot');
    const { logger } = runtime;
    // Log what the bot does (the CLI keeps other commands quiet).
    if (!runtime.config.explicitlySet.has('LOG_LEVEL')) logger.level = 'info';
    // The bot must outlive anything a library forgets to catch: log it and carry on.
    const onRejection = (error: unknown) => logger.error({ err: error }, 'unhandled rejection');
    const onException = (error: unknown) => logger.error({ err: error }, 'uncaught exception');
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    // Listening from the start: a signal during login stops the bot as soon as it is up.
    let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
    const stopSignal = new Promise<NodeJS.Signals>((resolve) => { onSignal = resolve; });
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      // Loaded here, so that the other commands do not load discord.js.
      const [{ startBot }, { loadCommands }, { botServices }, { BotMetrics }, { healthService }] = await Promise.all([
        import('../../bot/bot.ts'), import('../../bot/loader.ts'), import('../../bot/services.ts'), import('../../health/metrics.ts'), import('../../health/service.ts'),
      ]);
      const metrics = new BotMetrics();
      const services = [...botServices(runtime), healthService(runtime, metrics)];
      const bot = await startBot({ runtime, commands: await loadCommands(), services, metrics });
      const signal = await stopSignal;
      logger.info({ signal }, 'stopping');
      await bot.stop();
      return { json: { ok: true, stopped: signal }, text: `mailops bot stopped (${signal})` };
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    }
  },
};
