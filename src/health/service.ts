// The health endpoint as a service of the bot process: started with the bot when HTTP_LISTEN is set.
//
// /healthz is healthy when the bot holds a ready gateway connection to Discord and the state database takes writes;
// it also shows the sources' details (the last result of each scheduled job, …). A failing check or job is not
// "unhealthy": the bot is doing its job by reporting it.

import type { DatabaseSync } from 'node:sqlite';
import { Status } from 'discord.js';
import type { BotService, RunningBot } from '../bot/bot.ts';
import type { Runtime } from '../runtime.ts';
import type { BotMetrics } from './metrics.ts';
import { startHealthServer, type HealthReport, type HealthServer } from './server.ts';

/** Extra facts for /healthz and gauges for /metrics (the scheduler's jobs, for instance). */
export interface HealthSource {
  details?(database: DatabaseSync): Record<string, unknown>;
}

function databaseWritable(database: DatabaseSync): boolean {
  try {
    // Takes the write lock and gives it back: proves the file and its directory take writes, changes nothing.
    database.exec('BEGIN IMMEDIATE');
    database.exec('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}

export function healthReport(bot: RunningBot, runtime: Runtime, sources: readonly HealthSource[]): HealthReport {
  // The manager's own status stays "ready" after its first READY; each shard's follows its connection.
  const shards = [...bot.client.ws.shards.values()];
  const discord = {
    connected: bot.client.isReady() && shards.length > 0 && shards.every((shard) => shard.status === Status.Ready),
    pingMs: bot.client.ws.ping,
  };
  let writable = false;
  let details: Record<string, unknown> = {};
  try {
    const database = runtime.database();
    writable = databaseWritable(database);
    for (const source of sources) details = { ...details, ...source.details?.(database) };
  } catch (error) {
    details = { databaseError: (error as Error).message };
  }
  return { healthy: discord.connected && writable, discord, database: { writable }, ...details };
}

export function healthService(runtime: Runtime, metrics: BotMetrics, sources: readonly HealthSource[] = []): BotService {
  let server: HealthServer | undefined;
  return {
    name: 'health endpoint',
    async start(bot) {
      const listen = runtime.config.HTTP_LISTEN;
      if (listen === undefined) return;
      server = await startHealthServer({
        listen,
        metrics,
        logger: runtime.logger,
        health: async () => healthReport(bot, runtime, sources),
      });
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
  };
}
