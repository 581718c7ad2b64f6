// `mailops start` (and `npm start`): runs the bot until SIGTERM or SIGINT, then stops it cleanly — in-flight
// interactions may finish, the client disconnects, and the CLI closes the SSH connection and the state database.

import { requireSettings } from '../config.ts';
import type { Runtime } from '../runtime.ts';

export async function startBotUntilSignal(runtime: Runtime): Promise<{ ok: true; stopped: NodeJS.Signals }> {
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
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
  });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    // Loaded here, so that the other commands do not load discord.js.
    const [
      { startBot },
      { loadCommands },
      { Scheduler },
      { BotMetrics },
      { healthService },
      { registerSchedulerMetrics, schedulerHealthSource },
    ] = await Promise.all([
      import('../bot/bot.ts'),
      import('../command/catalogue.ts'),
      import('../schedule/scheduler.ts'),
      import('../health/metrics.ts'),
      import('../health/service.ts'),
      import('../schedule/health-source.ts'),
    ]);
    const metrics = new BotMetrics();
    registerSchedulerMetrics(metrics, runtime);
    // The scheduler (health reports, certificate watch, DNS drift, DKIM retirement, and the delivery of their messages
    // through the bot's poster) starts after the bot has logged in and stops before it disconnects.
    const services = [new Scheduler(runtime), healthService(runtime, metrics, [schedulerHealthSource])];
    const bot = await startBot({ runtime, commands: await loadCommands(), services, metrics });
    const signal = await stopSignal;
    logger.info({ signal }, 'stopping');
    await bot.stop();
    return { ok: true, stopped: signal };
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}
