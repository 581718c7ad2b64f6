// What an operation runs with: configuration, logger, clock, and — opened on first use and shared afterwards —
// the mail host connection and the state database. Both front ends (CLI and bot) build one and close it at the end.

import type { DatabaseSync } from 'node:sqlite';
import { requireSettings, type Config } from './config.ts';
import { mailHostFromConfig, type MailHost } from './host/mail-host.ts';
import { createLogger, Redactor, type Logger } from './log.ts';
import { openDatabase } from './store/database.ts';

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly redactor: Redactor;
  now(): Date;
  /** The mail host; fails with a usage error naming the missing settings when the host is not configured. */
  host(): MailHost;
  database(): DatabaseSync;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  config: Config;
  /** Secret values to keep out of every log line (from the configuration). */
  secrets: string[];
  logLevel?: string;
  /** Any writable stream: the process's standard error, or a stream of our own. */
  logDestination?: NodeJS.WritableStream;
  now?: () => Date;
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const redactor = new Redactor();
  for (const secret of options.secrets) redactor.add(secret);
  const logger = createLogger({
    level: options.logLevel ?? options.config.LOG_LEVEL,
    redactor,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  let host: MailHost | undefined;
  let database: DatabaseSync | undefined;
  return {
    config: options.config,
    logger,
    redactor,
    now: options.now ?? (() => new Date()),
    host() {
      if (!host) {
        requireSettings(options.config, 'host', 'Talking to the mail host');
        host = mailHostFromConfig(options.config, logger);
      }
      return host;
    },
    database() {
      database ??= openDatabase(options.config.STATE_DB);
      return database;
    },
    async close() {
      await host?.close();
      database?.close();
      host = undefined;
      database = undefined;
    },
  };
}
