// Hints in the reader's front. Operations and checks write their hints as terminal commands ("Renew it now:
// mailops cert-renew"), because that is one fixed form; in Discord the reader needs the slash command instead
// ("/mail cert-renew"), with each argument as the option of the same name ("mailops dkim-rotate example.com --algo
// rsa2048" → "/mail dkim-rotate domain:example.com algo:rsa2048"). Only commands /mail has are rewritten; `--yes`
// and `--wait` vanish (Discord asks with buttons), and a flag becomes `name:true`.

import type { APIEmbed } from 'discord.js';
import { inFront, type CommandDefinition } from '../command/definition.ts';
import { positionalNames } from '../command/options.ts';

/**
 * The positional arguments of each /mail subcommand, in the command line's order (each is the Discord option of that
 * name), from the command definitions the bot runs: the router tells this module at start (`learnCommands`).
 */
const positionalArguments = new Map<string, readonly string[]>();
/** Options of the command line that take a value (`--algo rsa2048`); every other option is a flag. */
const valueOptions = new Set<string>();

export function learnCommands(commands: readonly CommandDefinition[]): void {
  for (const command of commands.filter((entry) => inFront(entry, 'discord'))) {
    positionalArguments.set(command.name, positionalNames(command.options));
    for (const [name, spec] of Object.entries(command.options)) if (spec.cli === 'option' && spec.kind === 'text') valueOptions.add(name);
  }
}

/** CLI options that Discord answers with a button or a form, not an option. */
const buttonOptions: Readonly<Record<string, string | undefined>> = {
  yes: undefined,
  wait: undefined,
  json: undefined,
  'password-stdin': 'type-password:true',
};

const hint = /\bmailops ([a-z]+(?:-[a-z]+)*)((?: [^\s()`,;]+)*)/g;

function rewrite(name: string, words: string[]): { command: string; rest: string[] } {
  const positional = [...(positionalArguments.get(name) ?? [])];
  const parts = [`/mail ${name}`];
  let index = 0;
  for (; index < words.length; index++) {
    const word = words[index]!;
    if (word.startsWith('--')) {
      const option = word.slice(2);
      if (option in buttonOptions) {
        const replacement = buttonOptions[option];
        if (replacement !== undefined) parts.push(replacement);
      } else if (valueOptions.has(option) && index + 1 < words.length) {
        parts.push(`${option}:${words[++index]!}`);
      } else {
        parts.push(`${option}:true`);
      }
    } else if (positional.length > 0) {
      // A sentence may end right after the argument.
      const [, value = word, stop = ''] = /^(.*?)([.:]?)$/.exec(word) ?? [];
      parts.push(`${positional.shift()!}:${value}`);
      if (stop !== '') return { command: `${parts.join(' ')}${stop}`, rest: words.slice(index + 1) };
    } else {
      break;
    }
  }
  return { command: parts.join(' '), rest: words.slice(index) };
}

/** `text` with every `mailops <command> …` hint written as the /mail command a Discord reader runs. */
export function inDiscordTerms(text: string): string {
  return text.replace(hint, (whole, name: string, tail: string) => {
    if (!positionalArguments.has(name)) return whole;
    const { command, rest } = rewrite(
      name,
      tail.split(' ').filter((word) => word !== '')
    );
    return [command, ...rest].join(' ');
  });
}

/** The same for every text of an embed. */
export function embedInDiscordTerms(embed: APIEmbed): APIEmbed {
  const copy: APIEmbed = { ...embed };
  if (copy.title !== undefined) copy.title = inDiscordTerms(copy.title);
  if (copy.description !== undefined) copy.description = inDiscordTerms(copy.description);
  if (copy.fields !== undefined)
    copy.fields = copy.fields.map((field) => ({ ...field, name: inDiscordTerms(field.name), value: inDiscordTerms(field.value) }));
  if (copy.footer !== undefined) copy.footer = { ...copy.footer, text: inDiscordTerms(copy.footer.text) };
  return copy;
}
