// A definition's options as Discord has them (src/command/options.ts declares them for both fronts): the option JSON
// of a subcommand, and the values a person typed. A command with a `secret` gets one more flag, `type-password`: the
// person chooses to type the password in a private form instead of having one generated.

import type { SlashCommandSubcommandBuilder } from 'discord.js';
import type { CommandDefinition } from '../command/definition.ts';
import type { OptionSpecs, OptionValues } from '../command/options.ts';
import { usageError } from '../errors.ts';

/** The flag that asks for the password form. */
export const typePasswordOption = 'type-password';

/** Adds the command's options to a subcommand builder (required ones first, as Discord demands). */
export function addOptions(builder: SlashCommandSubcommandBuilder, command: CommandDefinition): SlashCommandSubcommandBuilder {
  const ordered = Object.entries(command.options).sort(([, a], [, b]) => Number(b.required) - Number(a.required));
  for (const [name, spec] of ordered) {
    if (spec.kind === 'flag') {
      builder.addBooleanOption((built) => built.setName(name).setDescription(spec.description).setRequired(false));
      continue;
    }
    builder.addStringOption((built) => {
      built.setName(name).setDescription(spec.description).setRequired(spec.required).setMaxLength(spec.maxLength);
      if (spec.choices) built.addChoices(...spec.choices.map((choice) => ({ name: choice, value: choice })));
      if (spec.suggest) built.setAutocomplete(true);
      return built;
    });
  }
  if (command.secret) {
    builder.addBooleanOption((built) =>
      built.setName(typePasswordOption).setDescription('Type the password in a private form instead of generating one').setRequired(false)
    );
  }
  return builder;
}

/** What the router needs from discord.js's option resolver. */
export interface OptionSource {
  getString(name: string): string | null;
  getBoolean(name: string): boolean | null;
}

/** The values a person gave, by the declaration. */
export function readOptions<Options extends OptionSpecs>(options: Options, source: OptionSource): OptionValues<Options> {
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(options)) {
    values[name] = spec.kind === 'flag' ? (source.getBoolean(name) ?? false) : (source.getString(name) ?? undefined);
    // Discord's client enforces required options; a hand-made interaction might not.
    if (spec.required && values[name] === undefined) {
      throw usageError('missing-option', `The option "${name}" is required.`, 'Run the command again and fill in every required option.');
    }
  }
  return values as OptionValues<Options>;
}

/** Whether the person asked to type the password (commands with a `secret`). */
export function wantsTypedSecret(command: CommandDefinition, source: OptionSource): boolean {
  return command.secret !== undefined && source.getBoolean(typePasswordOption) === true;
}
