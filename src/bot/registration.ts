// Registers /mail with Discord: in DISCORD_GUILD_ID when it is set (guild commands appear at once), globally
// otherwise (Discord may take up to an hour to show those). A PUT replaces the application's whole list in that
// scope, so a removed subcommand disappears too. The bot itself never registers anything (`npm run register` does).

import { DiscordAPIError, REST, Routes } from 'discord.js';
import { requireSettings, type Config } from '../config.ts';
import { failedError } from '../errors.ts';
import type { MailCommand } from './command.ts';
import { buildMailCommand } from './loader.ts';

export interface RegistrationResult {
  scope: 'guild' | 'global';
  guildId: string | undefined;
  /** The names of the /mail subcommands registered. */
  subcommands: string[];
}

export async function registerCommands(config: Config, commands: readonly MailCommand[]): Promise<RegistrationResult> {
  requireSettings(config, 'registration', 'Registering the /mail command');
  const applicationId = config.DISCORD_APPLICATION_ID as string;
  const body = [buildMailCommand(commands)];
  const rest = new REST({ api: config.DISCORD_API_URL }).setToken(config.DISCORD_TOKEN as string);
  const guildId = config.DISCORD_GUILD_ID;
  const route = guildId === undefined ? Routes.applicationCommands(applicationId) : Routes.applicationGuildCommands(applicationId, guildId);
  try {
    await rest.put(route, { body });
  } catch (error) {
    const detail = error instanceof DiscordAPIError ? `${error.message} (HTTP ${error.status}, code ${error.code})` : (error as Error).message;
    throw failedError('discord-registration-failed', `Discord did not accept the /mail command: ${detail}.`, {
      hint: error instanceof DiscordAPIError && error.status === 401
        ? 'Check DISCORD_TOKEN: it must be the bot token of the application DISCORD_APPLICATION_ID.'
        : 'Check DISCORD_APPLICATION_ID, DISCORD_GUILD_ID (the bot must be in that server) and DISCORD_API_URL.',
      cause: error,
    });
  }
  return { scope: guildId === undefined ? 'global' : 'guild', guildId, subcommands: commands.map((command) => command.name).sort() };
}
