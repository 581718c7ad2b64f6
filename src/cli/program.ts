// `mailops <name>` for every command definition of the command line (src/command/definition.ts): its arguments and
// options generated from the definition's options, and the run that turns them into the definition's input.
//
// Generated besides the declared options: `--yes` for a command that may ask for confirmation, `--password-stdin`
// for one that takes a password, `--wait` for one that may publish DNS records by hand.

import { Command } from 'commander';
import { inFront, targetOf, type CommandDefinition, type RunContext } from '../command/definition.ts';
import { positionalNames, type OptionSpecs } from '../command/options.ts';
import { refuseUnconfirmed } from '../ops/change.ts';
import { operationContext } from '../ops/context.ts';
import type { Runtime } from '../runtime.ts';
import { readFirstLine } from './stdin.ts';
import { publishingFor, waitForEnter } from './terminal.ts';

/** The options every definition of a kind gets on the command line, by the definition's property. */
export const generatedOptions = {
  confirm: { flags: '--yes', description: 'confirm the change (without it, mailops says what it would do and changes nothing)' },
  secret: { flags: '--password-stdin', description: 'read the password from the first line of standard input' },
  publishesDns: { flags: '--wait', description: 'with DNS_PROVIDER=manual: do not wait for Enter; poll DNS until the record appears' },
} as const;

/** What a command prints. */
export interface CommandOutput {
  json: unknown;
  text: string;
  exitCode: number;
}

export interface TerminalRun {
  runtime: Runtime;
  actor: string;
  stdin: NodeJS.ReadableStream;
  stderr: NodeJS.WritableStream;
  columns: number;
}

/** `--algo <algo>` or `--force`. */
function optionFlags(name: string, kind: 'text' | 'flag'): string {
  return kind === 'flag' ? `--${name}` : `--${name} <${name}>`;
}

/** The definitions that are `mailops` commands. */
export function cliCommands(commands: readonly CommandDefinition[]): CommandDefinition[] {
  return commands.filter((command) => inFront(command, 'cli'));
}

/** Adds `command` to `program` as a subcommand; `action` receives its input and what the person gave. */
export function addCommand(
  program: Command,
  command: CommandDefinition,
  action: (command: CommandDefinition, input: Record<string, unknown>, given: Record<string, unknown>) => Promise<void>
): Command {
  const sub = program.command(command.name).description(command.description);
  for (const name of positionalNames(command.options)) {
    const spec = command.options[name]!;
    sub.argument(spec.required ? `<${name}>` : `[${name}]`, spec.description);
  }
  for (const [name, spec] of Object.entries(command.options)) {
    if (spec.cli !== 'option') continue;
    const choices = spec.kind === 'text' && spec.choices ? ` (${spec.choices.join(', ')})` : '';
    sub.option(optionFlags(name, spec.kind), `${spec.description}${choices}`);
  }
  for (const property of ['confirm', 'secret', 'publishesDns'] as const) {
    if (command[property]) sub.option(generatedOptions[property].flags, generatedOptions[property].description);
  }
  sub.action(async (...actionArgs: unknown[]) => {
    const subcommand = actionArgs.at(-1) as Command;
    const given = actionArgs.at(-2) as Record<string, unknown>;
    await action(command, inputFrom(command.options, subcommand.args, given), given);
  });
  return sub;
}

/** commander's name of an option: `--type-password` → `typePassword`. */
const camel = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

function inputFrom(options: OptionSpecs, args: readonly string[], given: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const positional = positionalNames(options);
  positional.forEach((name, index) => {
    input[name] = args[index];
  });
  for (const [name, spec] of Object.entries(options)) {
    if (spec.cli !== 'option') continue;
    const value = given[camel(name)];
    input[name] = spec.kind === 'flag' ? value === true : typeof value === 'string' ? value : undefined;
  }
  return input;
}

/** Runs one definition from the command line: confirmation by `--yes`, the password from stdin, the result rendered. */
export async function runFromTerminal(
  command: CommandDefinition,
  input: Record<string, unknown>,
  given: Record<string, unknown>,
  run: TerminalRun
): Promise<CommandOutput> {
  const { runtime, actor } = run;
  const confirmed = given.yes === true;
  if (command.confirm && !confirmed) {
    const operation = operationContext(runtime, actor);
    const question = await command.confirm(input as never, { operation, show: (value) => value });
    if (question !== undefined) {
      refuseUnconfirmed(operation, { operation: command.name, target: targetOf(command, input) }, question);
    }
  }
  const secret = command.secret && given.passwordStdin === true ? await readFirstLine(run.stdin) : undefined;
  if (secret !== undefined) runtime.redactor.add(secret);
  const terminal = { runtime, stdin: run.stdin, stderr: run.stderr };
  const context: RunContext = {
    front: 'cli',
    runtime,
    actor,
    secret,
    confirmed,
    terminal: { stdin: run.stdin, stderr: run.stderr },
    operation: () => operationContext(runtime, actor),
    publishing: () => publishingFor(terminal, { wait: given.wait === true }),
    progress: async () => undefined,
    waitForPress: (prompt) => waitForEnter(terminal, prompt),
  };
  const result = await command.run(context, input as never);
  const { render } = command;
  return {
    json: render.json ? render.json(result) : result,
    text: render.text(result, { columns: run.columns }),
    exitCode: render.exitCode?.(result) ?? 0,
  };
}
