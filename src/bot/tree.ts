// The /mail command Discord registers, generated from the command definitions (src/command/catalogue.ts): one
// subcommand per definition that exists in Discord, in name order. discord.js's builders check every name,
// description and option against Discord's limits.

import {
  ApplicationIntegrationType,
  InteractionContextType,
  SlashCommandBuilder,
  SlashCommandSubcommandBuilder,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { inFront, type CommandDefinition } from '../command/definition.ts';
import { addOptions } from './options.ts';

export const rootCommandName = 'mail';

/** The definitions that are /mail subcommands. */
export function discordCommands(commands: readonly CommandDefinition[]): CommandDefinition[] {
  return commands.filter((command) => inFront(command, 'discord'));
}

/** The /mail command with one subcommand per command, as Discord's registration endpoint takes it. */
export function buildMailCommand(commands: readonly CommandDefinition[]): RESTPostAPIChatInputApplicationCommandsJSONBody {
  const names = new Set<string>();
  const mail = new SlashCommandBuilder()
    .setName(rootCommandName)
    .setDescription('Run the mail server: senders, aliases, DKIM, certificates, deliverability')
    // Guild-only; the bot checks roles itself, whatever the server's command permissions say.
    .setContexts(InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
  for (const command of discordCommands(commands).sort((a, b) => a.name.localeCompare(b.name))) {
    if (names.has(command.name)) throw new Error(`Two commands are named "${command.name}".`);
    names.add(command.name);
    mail.addSubcommand(addOptions(new SlashCommandSubcommandBuilder().setName(command.name).setDescription(command.description), command));
  }
  return mail.toJSON();
}
