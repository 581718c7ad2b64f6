// One bot under test: the lab (a real mail host), the Discord emulator, /mail registered there the way
// `npm run register` does it, and the real bot (discord.js client, router, commands) logged in against it.
// Members with the admin role, the viewer role and no role are ready to use; log lines are captured.

import { Writable } from 'node:stream';
import { startBot, type BotService, type RunningBot } from '../../src/bot/bot.ts';
import { registerCommands } from '../../src/bot/registration.ts';
import { loadCommands } from '../../src/command/catalogue.ts';
import type { CommandDefinition } from '../../src/command/definition.ts';
import { parseConfig, secretValues } from '../../src/config.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { startLab, type Lab, type LabOptions } from '../lab/lab.ts';
import { DiscordEmulator, messageText, type EmulatorOptions, type InteractionRecord } from './emulator.ts';
import { messageFlags, snowflake, type EmulatedUser } from './payloads.ts';

export interface Harness {
  lab: Lab;
  emulator: DiscordEmulator;
  runtime: Runtime;
  bot: RunningBot;
  commands: CommandDefinition[];
  /** Every log line the bot wrote. */
  logs: string[];
  roles: { admin: string; viewer: string; oncall: string };
  channels: { ops: string; audit: string; alerts: string; health: string };
  admin: EmulatedUser;
  otherAdmin: EmulatedUser;
  viewer: EmulatedUser;
  stranger: EmulatedUser;
  /** Waits until the bot has finished answering (no "thinking…" or progress line left) and returns the record. */
  finished(record: InteractionRecord, timeoutMs?: number): Promise<InteractionRecord>;
  /** Messages in the audit channel, as text. */
  auditPosts(): string[];
  /**
   * Stops the bot and its runtime (SSH connection, state database) and starts them again, as a restarted process
   * would; `now` replaces the runtime's clock from then on. `runtime` and `bot` are the new ones afterwards.
   */
  restart(options?: { now?: () => Date }): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  lab?: LabOptions;
  /** Commands besides the ones in commands/ (test probes). */
  extraCommands?: CommandDefinition[];
  /** Registered in the emulator but unknown to the bot. */
  unknownCommands?: CommandDefinition[];
  emulator?: EmulatorOptions;
  confirmTimeoutMs?: number;
  /** The longest wait for a button offered during a command (the bot's default: what Discord's token allows). */
  pressTimeoutMs?: number;
  env?: Record<string, string>;
  /** The services that run beside the bot (none by default; a `Scheduler` for the jobs). */
  services?: (runtime: Runtime) => BotService[];
  /** The runtime's clock. */
  now?: () => Date;
}

/** Whether the bot has finished answering: acknowledged, and no "thinking…" or progress line left. */
export function settled(record: InteractionRecord): boolean {
  if (!record.callback) return record.rejectedCallbacks.length > 0;
  if (record.callback.type === 8 || record.callback.type === 9 || record.callback.type === 6) return true;
  if (record.originalDeleted) return record.followUps.length > 0;
  const original = record.original;
  if (!original) return false;
  return (original.flags & messageFlags.loading) === 0 && !messageText(original).startsWith('⏳');
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const roles = { admin: snowflake(), viewer: snowflake(), oncall: snowflake() };
  const channels = { ops: snowflake(), audit: snowflake(), alerts: snowflake(), health: snowflake() };
  const lab = await startLab({ chasquid: '1.15', domains: ['example.test', 'example.org'], dns: false, ...options.lab });
  const emulator = await new DiscordEmulator({
    roles: [
      { id: roles.admin, name: 'mail-admin' },
      { id: roles.viewer, name: 'mail-viewer' },
      { id: roles.oncall, name: 'mail-oncall' },
    ],
    channels: [
      { id: channels.ops, name: 'mail-ops' },
      { id: channels.audit, name: 'mail-audit' },
      { id: channels.alerts, name: 'mail-alerts' },
      { id: channels.health, name: 'mail-health' },
    ],
    heartbeatIntervalMs: 1000,
    ...options.emulator,
  }).start();
  const admin = emulator.addMember('alice', [roles.admin]);
  const otherAdmin = emulator.addMember('bob', [roles.admin]);
  const viewer = emulator.addMember('victor', [roles.viewer]);
  const stranger = emulator.addMember('mallory', []);
  const env = {
    ...lab.env,
    ...emulator.env,
    DISCORD_ADMIN_ROLE_IDS: roles.admin,
    DISCORD_VIEWER_ROLE_IDS: roles.viewer,
    ALERT_CHANNEL_ID: channels.alerts,
    AUDIT_CHANNEL_ID: channels.audit,
    HEALTH_CHANNEL_ID: channels.health,
    ONCALL_ROLE_ID: roles.oncall,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const config = parseConfig(env);
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const newRuntime = (now: (() => Date) | undefined) =>
    createRuntime({ config, secrets: secretValues(env), logDestination, ...(now ? { now } : {}) });
  const runtime = newRuntime(options.now);
  const commands = [...(await loadCommands()), ...(options.extraCommands ?? [])];
  await registerCommands(config, [...commands, ...(options.unknownCommands ?? [])]);
  const launch = (forRuntime: Runtime) =>
    startBot({
      runtime: forRuntime,
      commands,
      services: options.services?.(forRuntime) ?? [],
      shutdownGraceMs: 2000,
      ...(options.confirmTimeoutMs === undefined ? {} : { confirmTimeoutMs: options.confirmTimeoutMs }),
      ...(options.pressTimeoutMs === undefined ? {} : { pressTimeoutMs: options.pressTimeoutMs }),
    });
  const bot = await launch(runtime);
  const harness: Harness = {
    lab,
    emulator,
    runtime,
    bot,
    commands,
    logs,
    roles,
    channels,
    admin,
    otherAdmin,
    viewer,
    stranger,
    async finished(record, timeoutMs = 8000) {
      await emulator.until(() => settled(record), timeoutMs, `the answer to interaction ${record.id}`);
      return record;
    },
    auditPosts() {
      return (emulator.channelMessages.get(channels.audit) ?? []).map((message) => message.content);
    },
    async restart(restartOptions = {}) {
      await harness.bot.stop();
      await harness.runtime.close();
      harness.runtime = newRuntime(restartOptions.now ?? options.now);
      harness.bot = await launch(harness.runtime);
    },
    async stop() {
      await harness.bot.stop();
      await harness.runtime.close();
      await emulator.stop();
      await lab.stop();
    },
  };
  return harness;
}
