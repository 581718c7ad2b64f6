// The bot process: the discord.js client, logged in with DISCORD_TOKEN against DISCORD_API_URL (the gateway is
// discovered from it), handing every interaction to the router; plus the services that run beside it (the scheduler
// plugs in here, and posts its messages through the bot's `poster`). It registers no commands (`npm run register`
// does).
//
// Stopping: new interactions are declined, in-flight ones may finish for a grace period, services stop, the client
// disconnects. The caller closes the runtime afterwards (SSH connection, state database).

import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, type Interaction } from 'discord.js';
import type { CommandDefinition } from '../command/definition.ts';
import { requireSettings } from '../config.ts';
import { failedError } from '../errors.ts';
import type { BotMetrics } from '../health/metrics.ts';
import type { Runtime } from '../runtime.ts';
import type { MessagePoster } from '../schedule/outcome.ts';
import { discordPoster } from './alert-messages.ts';
import { AuditChannel } from './audit-channel.ts';
import { guardInteractions } from './packet-guard.ts';
import { Router } from './router.ts';
import { SuggestionCache } from './suggestions.ts';

/** Something that runs while the bot runs (the scheduler): started after login, stopped before the client goes. */
export interface BotService {
  name: string;
  start(bot: RunningBot): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface BotOptions {
  runtime: Runtime;
  commands: readonly CommandDefinition[];
  services?: readonly BotService[];
  confirmTimeoutMs?: number;
  secretTimeoutMs?: number;
  /** The longest wait for a button offered during a command (default: as long as Discord's interaction token allows). */
  pressTimeoutMs?: number;
  /** How long stopping waits for interactions in flight. */
  shutdownGraceMs?: number;
  /** How long login may take before it counts as failed. */
  loginTimeoutMs?: number;
  /** Counts commands for /metrics. */
  metrics?: BotMetrics;
}

export interface RunningBot {
  readonly client: Client<true>;
  readonly runtime: Runtime;
  /** Interactions being handled right now. */
  readonly inFlight: number;
  /** Posts the scheduler's outbox messages, rendered for Discord (alert-messages.ts). */
  readonly poster: MessagePoster;
  stop(): Promise<void>;
}

export async function startBot(options: BotOptions): Promise<RunningBot> {
  const { runtime } = options;
  const { config, logger } = runtime;
  requireSettings(config, 'discord', 'Running the bot');
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: config.DISCORD_API_URL } });
  const router = new Router({
    runtime,
    commands: options.commands,
    audit: new AuditChannel(client.rest, config.AUDIT_CHANNEL_ID, logger),
    suggestions: new SuggestionCache(runtime),
    confirmTimeoutMs: options.confirmTimeoutMs ?? 60_000,
    secretTimeoutMs: options.secretTimeoutMs ?? 10 * 60_000,
    ...(options.pressTimeoutMs === undefined ? {} : { pressTimeoutMs: options.pressTimeoutMs }),
    ...(options.metrics ? { observe: options.metrics.commandFinished.bind(options.metrics) } : {}),
  });
  const inFlight = new Set<Promise<void>>();
  client.on(Events.InteractionCreate, (interaction: Interaction) => {
    const work = router.handle(interaction).finally(() => inFlight.delete(work));
    inFlight.add(work);
  });
  client.on(Events.Raw, guardInteractions(logger));
  client.on(Events.Error, (error) => logger.error({ err: error }, 'Discord client error'));
  client.on(Events.ShardError, (error) => logger.warn({ err: error }, 'gateway connection error'));
  let stopping: Promise<void> | undefined;
  client.on(Events.ShardReconnecting, () => {
    if (!stopping) logger.info('gateway connection lost; reconnecting');
  });
  client.on(Events.ShardResume, () => logger.info('gateway session resumed'));
  client.on(Events.Warn, (message) => logger.warn({ discord: message }, 'Discord client warning'));

  const ready = once(client, Events.ClientReady);
  const timeoutMs = options.loginTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.login(config.DISCORD_TOKEN).then(() => ready),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no READY within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    await client.destroy();
    throw failedError('discord-login-failed', `Could not connect to Discord: ${(error as Error).message.replace(/\.$/, '')}.`, {
      hint: 'Check DISCORD_TOKEN (the bot token of DISCORD_APPLICATION_ID) and DISCORD_API_URL, and that this machine reaches Discord.',
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
  logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'connected to Discord');

  const started: BotService[] = [];
  const bot: RunningBot = {
    client: client as Client<true>,
    runtime,
    poster: discordPoster(client.rest, config.ONCALL_ROLE_ID),
    get inFlight() {
      return inFlight.size;
    },
    stop() {
      stopping ??= (async () => {
        router.close();
        const grace = new Promise((resolve) => setTimeout(resolve, options.shutdownGraceMs ?? 10_000).unref());
        await Promise.race([Promise.allSettled([...inFlight]), grace]);
        if (inFlight.size > 0) logger.warn({ inFlight: inFlight.size }, 'stopping with interactions still in flight');
        for (const service of started.reverse()) {
          try {
            await service.stop();
          } catch (error) {
            logger.warn({ err: error, service: service.name }, 'a service did not stop cleanly');
          }
        }
        // With Discord unreachable, discord.js can hang in a reconnect while destroying; do not let that hold the exit.
        const destroyed = await Promise.race([
          client.destroy().then(() => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), 5000).unref()),
        ]);
        if (destroyed) logger.info('disconnected from Discord');
        else logger.warn('gave up waiting for the Discord client to close');
      })();
      return stopping;
    },
  };
  for (const service of options.services ?? []) {
    try {
      await service.start(bot);
    } catch (error) {
      await bot.stop();
      throw failedError('service-start-failed', `${service.name} could not start: ${(error as Error).message}.`, {
        hint: 'The log has the details.',
        cause: error,
      });
    }
    started.push(service);
  }
  return bot;
}
