// The options of a /mail subcommand, declared once: from the declaration the loader builds Discord's option JSON, the
// router reads the values a person typed, and `execute` receives them typed (`{ address: string; force: boolean }`).
//
// Names follow interface.md (`address`, `targets`, `domain`, `algo`, `force`, `accept`). Values arrive as typed;
// the operation validates them (nothing reaches the host unvalidated). A flag that was not given is `false`.

import type { SlashCommandSubcommandBuilder } from 'discord.js';
import { usageError } from '../errors.ts';
import type { SuggestionSource } from './suggestions.ts';

export interface TextOption<Required extends boolean = boolean> {
  kind: 'text';
  description: string;
  required: Required;
  /** Fixed choices, shown as a list in Discord (not together with `suggest`). */
  choices?: readonly string[];
  /** Where autocomplete finds suggestions. */
  suggest?: SuggestionSource;
  maxLength: number;
}

export interface FlagOption {
  kind: 'flag';
  description: string;
  required: false;
}

export type OptionSpec = TextOption | FlagOption;
export type OptionSpecs = Record<string, OptionSpec>;

type OptionValue<Spec> = Spec extends FlagOption ? boolean : Spec extends TextOption<true> ? string : string | undefined;

/** The values `execute` receives, typed from the declaration. */
export type OptionValues<Options extends OptionSpecs> = { [Name in keyof Options]: OptionValue<Options[Name]> };

function text<Required extends boolean>(description: string, required: Required, extra: Partial<Pick<TextOption, 'choices' | 'suggest' | 'maxLength'>> = {}): TextOption<Required> {
  return { kind: 'text', description, required, maxLength: extra.maxLength ?? 254, ...(extra.choices ? { choices: extra.choices } : {}), ...(extra.suggest ? { suggest: extra.suggest } : {}) };
}

/** The option builders a command file uses. */
export const option = {
  /** A mail address (`i@example.com`); `suggest` offers existing senders or aliases. */
  address: (description: string, extra: { suggest?: SuggestionSource } = {}): TextOption<true> => text(description, true, extra),
  /** A required domain, suggested from MAIL_DOMAINS (pass `domainSuggestions`). */
  domain: (description: string, suggest: SuggestionSource): TextOption<true> => text(description, true, { suggest, maxLength: 253 }),
  /** An optional domain, suggested from MAIL_DOMAINS. */
  optionalDomain: (description: string, suggest: SuggestionSource): TextOption<false> => text(description, false, { suggest, maxLength: 253 }),
  /** Free text, required (like `targets`). */
  text: (description: string, maxLength = 1000): TextOption<true> => text(description, true, { maxLength }),
  /** One of fixed values, optional (the operation has a default). */
  choice: (description: string, choices: readonly string[]): TextOption<false> => text(description, false, { choices, maxLength: 100 }),
  /** A yes/no switch, false unless given. */
  flag: (description: string): FlagOption => ({ kind: 'flag', description, required: false }),
};

/** Adds the declared options to a subcommand builder (required ones first, as Discord demands). */
export function addOptions(builder: SlashCommandSubcommandBuilder, options: OptionSpecs): SlashCommandSubcommandBuilder {
  const ordered = Object.entries(options).sort(([, a], [, b]) => Number(b.required) - Number(a.required));
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
    values[name] = spec.kind === 'flag' ? source.getBoolean(name) ?? false : source.getString(name) ?? undefined;
    // Discord's client enforces required options; a hand-made interaction might not.
    if (spec.required && values[name] === undefined) {
      throw usageError('missing-option', `The option "${name}" is required.`, 'Run the command again and fill in every required option.');
    }
  }
  return values as OptionValues<Options>;
}
