// One command, one definition: the file `commands/<name>.ts` default-exports `defineCommand({...})`, and both fronts
// are generated from it — the command line (src/cli/program.ts: `mailops <name>`, its arguments, options and help)
// and the Discord tree (src/bot/tree.ts: `/mail <name>` and its options), run by src/bot/router.ts.
//
// A definition says:
//   name, description  the same in both fronts (Discord allows 100 characters for the description)
//   fronts             where it exists: both (default), or only the command line (`start`, `run-job`)
//   access             'change' needs a DISCORD_ADMIN_ROLE_IDS role in Discord and is audited; 'read' an admin or
//                      viewer role; `changes(input)` makes a reading command a change for some options (dns-diff accept)
//   options            names, kinds and choices (options.ts); `run` receives the values typed
//   target             the option that names what a change is about, for the audit trail
//   confirm            the question to ask before the change, or undefined when these options need none (the real
//                      questions are worded by src/ops/confirmation.ts): Discord asks with Confirm/Cancel; the command
//                      line takes `--yes`, and without it refuses with the question (exit 3, audited)
//   secret             a password the person may give instead of a generated one: `--password-stdin` on the command
//                      line, `type-password:true` and a private form in Discord; `context.secret` holds it
//   publishesDns       it may publish DNS records; with DNS_PROVIDER=manual the command line waits for Enter (or polls,
//                      with `--wait`) and Discord shows a "Published" button
//   visibility         'private': in Discord only the invoker sees the reply (generated passwords)
//   working            the line Discord shows while long work runs (`context.progress` updates it)
//   run                calls one operation of src/ops: `(context, input) => Promise<Result>`
//   render             the result as text (terminal), as JSON (`--json`; the result itself unless given), in Discord
//                      (embeds; a password only as the reply's secret), and the exit status it means (default 0)

import type { APIEmbed } from 'discord.js';
import type { RecordPublishing } from '../dns/publisher.ts';
import type { Show } from '../ops/confirmation.ts';
import type { OperationContext } from '../ops/context.ts';
import type { Runtime } from '../runtime.ts';
import type { OptionSpecs, OptionValues } from './options.ts';

export type Access = 'change' | 'read';
export type Front = 'cli' | 'discord';

/** A button for the invoker in Discord; a line on standard error and Enter on the command line. */
export interface PressPrompt {
  /** What the person is asked to do (Markdown: put anything to copy in a code block). */
  text: string;
  /** The button's label, like "Published". */
  button: string;
  /** The progress line once it is pressed. */
  working?: string;
}

/** What `run` receives from whichever front runs it. */
export interface RunContext {
  readonly front: Front;
  readonly runtime: Runtime;
  /** Who is recorded in the audit trail: `discord:<user id>(<user name>)` or `cli:<user>`. */
  readonly actor: string;
  /** The password the person gave (`secret` commands), or undefined: generate one. */
  readonly secret: string | undefined;
  /** True when the person confirmed (Discord's Confirm, the command line's --yes). */
  readonly confirmed: boolean;
  /** What an operation of src/ops takes (host, state database, configuration, redactor, this actor). */
  operation(): OperationContext;
  /** DNS publishing as this front offers it (by hand: a button in Discord, Enter or --wait on the command line). */
  publishing(): RecordPublishing;
  /** Replaces the progress line (Discord); nothing on the command line. */
  progress(text: string): Promise<void>;
  /** Waits until the invoker says they did what `prompt` asks; rejects (code `no-answer`) when they cannot. */
  waitForPress(prompt: PressPrompt): Promise<void>;
  /** Standard streams of the command line (absent in Discord), for commands that only exist there. */
  readonly terminal?: { stdin: NodeJS.ReadableStream; stderr: NodeJS.WritableStream };
}

/** A Discord answer. Everything but `secret` may be seen by the whole channel. */
export interface Reply {
  content?: string;
  embeds?: APIEmbed[];
  /** A secret meant for the invoker alone (a generated password): sent only in an ephemeral message, never logged. */
  secret?: { label: string; value: string };
}

/** What a confirmation question is worded with: the operation's context, and how the front marks up a value. */
export interface Asking {
  operation: OperationContext;
  show: Show;
}

export interface SecretPrompt {
  /** The Discord form's title and its text field's label. */
  title: string;
  label: string;
  minLength: number;
  maxLength: number;
}

export interface Rendering<Result> {
  /** For a terminal; `columns` is the terminal's width. */
  text(result: Result, view: { columns: number }): string;
  /** The JSON object of the interface (default: the result). */
  json?(result: Result): unknown;
  /** For Discord (may load its embed builders when used); required of a command that exists in Discord. */
  discord?(result: Result): Reply | Promise<Reply>;
  /** 1 when the result itself is a failure (a failing check, drift found); default 0. */
  exitCode?(result: Result): number;
}

export interface CommandDefinition<Options extends OptionSpecs = OptionSpecs, Result = unknown> {
  name: string;
  description: string;
  fronts?: readonly Front[];
  access: Access;
  options: Options;
  target?: string;
  secret?: SecretPrompt;
  publishesDns?: boolean;
  visibility?: 'public' | 'private';
  working?: string;
  // Methods rather than function properties, so that a command with its own options is a CommandDefinition too.
  changes?(input: OptionValues<Options>): boolean;
  confirm?(input: OptionValues<Options>, asking: Asking): Promise<string | undefined> | string | undefined;
  run(context: RunContext, input: OptionValues<Options>): Promise<Result>;
  render: Rendering<Result>;
}

/** Declares a command; the identity function that lets TypeScript type `run` and `render` from the declaration. */
export function defineCommand<Options extends OptionSpecs, Result>(
  command: CommandDefinition<Options, Result> & { target?: keyof Options & string }
): CommandDefinition<Options, Result> {
  return command;
}

/** Whether the command exists in this front. */
export function inFront(command: CommandDefinition, front: Front): boolean {
  return (command.fronts ?? ['cli', 'discord']).includes(front);
}

/** The access this run needs (a reading command with `changes` may need 'change'). */
export function accessFor(command: CommandDefinition, input: Record<string, unknown>): Access {
  return command.changes?.(input as never) ? 'change' : command.access;
}

/** What a change is about, for the audit trail: the value of the command's `target` option, or ''. */
export function targetOf(command: CommandDefinition, input: Record<string, unknown>): string {
  const value = command.target === undefined ? undefined : input[command.target];
  return typeof value === 'string' ? value : '';
}
