// Registers /mail with Discord: in DISCORD_GUILD_ID when it is set (guild commands appear at once), globally
// otherwise (Discord may take up to an hour to show those). A PUT replaces the application's whole list in that
// scope, so a removed subcommand disappears too. The bot itself never registers anything (`npm run register` does).

import { DiscordAPIError, HTTPError, REST, Routes } from 'discord.js';
import type { CommandDefinition } from '../command/definition.ts';
import { requireSettings, type Config } from '../config.ts';
import { failedError, type MailopsError } from '../errors.ts';
import { buildMailCommand, discordCommands } from './tree.ts';

export interface RegistrationResult {
  scope: 'guild' | 'global';
  guildId: string | undefined;
  /** The names of the /mail subcommands registered. */
  subcommands: string[];
}

export async function registerCommands(config: Config, commands: readonly CommandDefinition[]): Promise<RegistrationResult> {
  requireSettings(config, 'registration', 'Registering the /mail command');
  const applicationId = config.DISCORD_APPLICATION_ID as string;
  const body = [buildMailCommand(commands)];
  const rest = new REST({ api: config.DISCORD_API_URL }).setToken(config.DISCORD_TOKEN as string);
  const guildId = config.DISCORD_GUILD_ID;
  const route = guildId === undefined ? Routes.applicationCommands(applicationId) : Routes.applicationGuildCommands(applicationId, guildId);
  try {
    await rest.put(route, { body });
  } catch (error) {
    throw registrationError(error, config.DISCORD_API_URL);
  }
  return {
    scope: guildId === undefined ? 'global' : 'guild',
    guildId,
    subcommands: discordCommands(commands)
      .map((command) => command.name)
      .sort(),
  };
}

/**
 * Why the registration failed, blaming only what can be to blame: Discord refusing the request (the token, the ids),
 * Discord failing itself (a 5xx), or Discord not reached at all (no network, DNS, a proxy) — where the ids are not
 * the cause and the message does not send the reader to check them.
 */
function registrationError(error: unknown, apiUrl: string): MailopsError {
  if (error instanceof DiscordAPIError) {
    return failedError(
      'discord-registration-failed',
      `Discord did not accept the /mail command: ${error.message} (HTTP ${error.status}, code ${error.code}).`,
      {
        hint:
          error.status === 401
            ? 'Check DISCORD_TOKEN: it must be the bot token of the application DISCORD_APPLICATION_ID.'
            : 'Check DISCORD_APPLICATION_ID and DISCORD_GUILD_ID (the bot must be in that server).',
        cause: error,
      }
    );
  }
  if (error instanceof HTTPError) {
    return failedError(
      'discord-unavailable',
      `Discord could not take the /mail command right now (HTTP ${error.status}). Nothing was registered.`,
      { hint: 'Run npm run register again in a few minutes.', cause: error }
    );
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return failedError('discord-unreachable', `Could not reach Discord at ${apiUrl} (${detail}). Nothing was registered.`, {
    hint: 'Check that this machine can reach the internet (its DNS, a proxy or firewall), and DISCORD_API_URL if you set it; then run npm run register again.',
    cause: error,
  });
}
