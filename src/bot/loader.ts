// Builds /mail from the commands folder: every `commands/<name>.ts` (tests aside) default-exports one subcommand,
// whose name must be its file's name. Subcommands are listed in name order, so the tree does not depend on the
// file system. discord.js's builders check every name, description and option against Discord's limits.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationIntegrationType, InteractionContextType, SlashCommandBuilder, SlashCommandSubcommandBuilder,
  type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { MailCommand } from './command.ts';
import { addOptions } from './options.ts';

export const rootCommandName = 'mail';

/** The commands folder of this checkout. */
export const commandsDirectory = path.resolve(import.meta.dirname, '../../commands');

export async function loadCommands(directory = commandsDirectory): Promise<MailCommand[]> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts')).sort();
  const commands: MailCommand[] = [];
  for (const file of files) {
    const module = await import(pathToFileURL(path.join(directory, file)).href) as { default?: MailCommand };
    const command = module.default;
    const expected = file.slice(0, -'.ts'.length);
    if (!command || typeof command.name !== 'string') throw new Error(`${file} must default-export a command made with defineCommand().`);
    if (command.name !== expected) throw new Error(`${file} defines "${command.name}"; a command file is named after its command (${command.name}.ts).`);
    commands.push(command);
  }
  return commands;
}

/** The /mail command with one subcommand per command, as Discord's registration endpoint takes it. */
export function buildMailCommand(commands: readonly MailCommand[]): RESTPostAPIChatInputApplicationCommandsJSONBody {
  const names = new Set<string>();
  const mail = new SlashCommandBuilder()
    .setName(rootCommandName)
    .setDescription('Run the mail server: senders, aliases, DKIM, certificates, deliverability')
    // Guild-only; the bot checks roles itself, whatever the server's command permissions say.
    .setContexts(InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
  for (const command of [...commands].sort((a, b) => a.name.localeCompare(b.name))) {
    if (names.has(command.name)) throw new Error(`Two commands are named "${command.name}".`);
    names.add(command.name);
    const description = command.execute ? command.description : `${command.description} (not available yet)`.slice(0, 100);
    mail.addSubcommand(addOptions(new SlashCommandSubcommandBuilder().setName(command.name).setDescription(description), command.options));
  }
  return mail.toJSON();
}
