// The options of a command, declared once for both fronts. From the declaration the CLI builds its arguments and
// `--options` (src/cli/program.ts), the bot builds Discord's option JSON and reads what a person typed
// (src/bot/tree.ts, src/bot/options.ts), and `run` receives the values typed (`{ address: string; force: boolean }`).
//
// Names are the interface's (`address`, `targets`, `domain`, `algo`, `force`, `accept`, `prune`): in Discord each is an
// option of that name; on the command line an `argument` is positional (`mailops alias-set <address> <targets>`) and
// an `option` is `--name` (a flag, or `--algo <algo>` for a text value). Values arrive as typed; the operation
// validates them (nothing reaches the host unvalidated). A flag that was not given is `false`.

import type { SuggestionSource } from './suggestions.ts';

interface OptionBase {
  description: string;
  /** On the command line: a positional argument (in declaration order) or a `--name` option. */
  cli: 'argument' | 'option';
}

export interface TextOption<Required extends boolean = boolean> extends OptionBase {
  kind: 'text';
  required: Required;
  /** Fixed values, shown as a list in Discord and named in the CLI's help (the operation checks them). */
  choices?: readonly string[];
  /** Where Discord's autocomplete finds suggestions. */
  suggest?: SuggestionSource;
  maxLength: number;
}

export interface FlagOption extends OptionBase {
  kind: 'flag';
  required: false;
  cli: 'option';
}

export type OptionSpec = TextOption | FlagOption;
export type OptionSpecs = Record<string, OptionSpec>;

type OptionValue<Spec> = Spec extends FlagOption ? boolean : Spec extends TextOption<true> ? string : string | undefined;

/** The values `run` receives, typed from the declaration. */
export type OptionValues<Options extends OptionSpecs> = { [Name in keyof Options]: OptionValue<Options[Name]> };

function text<Required extends boolean>(
  description: string,
  required: Required,
  cli: 'argument' | 'option',
  extra: Partial<Pick<TextOption, 'choices' | 'suggest' | 'maxLength'>> = {}
): TextOption<Required> {
  return {
    kind: 'text',
    description,
    required,
    cli,
    maxLength: extra.maxLength ?? 254,
    ...(extra.choices ? { choices: extra.choices } : {}),
    ...(extra.suggest ? { suggest: extra.suggest } : {}),
  };
}

/** The option builders a command definition uses. */
export const option = {
  /** A mail address (`i@example.com`), positional; `suggest` offers existing senders or aliases. */
  address: (description: string, extra: { suggest?: SuggestionSource } = {}): TextOption<true> =>
    text(description, true, 'argument', extra),
  /** An optional mail address: `--name <address>` on the command line. */
  optionalAddress: (description: string): TextOption<false> => text(description, false, 'option'),
  /** A required domain, positional, suggested from MAIL_DOMAINS (pass `domainSuggestions`). */
  domain: (description: string, suggest?: SuggestionSource): TextOption<true> =>
    text(description, true, 'argument', { ...(suggest ? { suggest } : {}), maxLength: 253 }),
  /** An optional domain, positional (`[domain]`), suggested from MAIL_DOMAINS. */
  optionalDomain: (description: string, suggest?: SuggestionSource): TextOption<false> =>
    text(description, false, 'argument', { ...(suggest ? { suggest } : {}), maxLength: 253 }),
  /** Free text, required and positional (like `targets`). */
  text: (description: string, maxLength = 1000): TextOption<true> => text(description, true, 'argument', { maxLength }),
  /** One of fixed values, optional (the operation has a default): `--name <value>` on the command line. */
  choice: (description: string, choices: readonly string[]): TextOption<false> =>
    text(description, false, 'option', { choices, maxLength: 100 }),
  /** A period such as `7d` (the operation parses it), optional: `--name <period>` on the command line. */
  period: (description: string): TextOption<false> => text(description, false, 'option', { maxLength: 10 }),
  /** A yes/no switch, false unless given: `--name` on the command line. */
  flag: (description: string): FlagOption => ({ kind: 'flag', description, required: false, cli: 'option' }),
};

/** The positional arguments of a command, in the command line's order. */
export function positionalNames(options: OptionSpecs): string[] {
  return Object.entries(options)
    .filter(([, spec]) => spec.cli === 'argument')
    .map(([name]) => name);
}
