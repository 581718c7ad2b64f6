// The shape of one /mail subcommand: the file `commands/<name>.ts` default-exports `defineCommand({...})`.
//
// A command declares what it is and what it needs; the router (router.ts) does the Discord work around it:
//   access       'change' needs a DISCORD_ADMIN_ROLE_IDS role; 'read' an admin or DISCORD_VIEWER_ROLE_IDS role
//   changes      for a reading command that changes something with some options (dns-diff accept:true)
//   options      names and kinds (options.ts); `execute` receives the values typed
//   target       the option that names what a change is about, for the audit trail and the audit channel
//   visibility   'public' (default): the team sees the result; 'private': only the invoker does
//   askSecret    ask for a password in a modal (instead of generating one) when `when(input)` says so
//   confirm      a question to answer with Confirm/Cancel before anything changes (or undefined: no question)
//   working      a line shown while the work runs (for long work; `context.progress` updates it)
//   execute      calls one operation of src/ops and renders its result; absent = "not available yet"
// While it runs, `execute` may wait for the invoker with `context.waitForPress` (a record to publish by hand, then a
// "Published" button).
// Every reply is deferred within Discord's 3 seconds, errors become ephemeral messages, and a secret in the reply
// (`Reply.secret`) is only ever sent in an ephemeral message.

import type { APIEmbed } from 'discord.js';
import type { OperationContext } from '../ops/context.ts';
import type { Runtime } from '../runtime.ts';
import type { OptionSpecs, OptionValues } from './options.ts';

export type Access = 'change' | 'read';

export interface CommandContext {
  readonly runtime: Runtime;
  /** Who is recorded in the audit trail: `discord:<user id>(<user name>)`. */
  readonly actor: string;
  /** The password typed into the modal, when the command asked for one and the invoker gave it. */
  readonly secret: string | undefined;
  /** What an operation of src/ops takes (host, state database, configuration, redactor, this actor). */
  operation(): OperationContext;
  /** Replaces the progress line of the reply (long work: certificate renewal, DKIM rotation, checks). */
  progress(text: string): Promise<void>;
  /**
   * Shows `prompt.text` with one button that only the invoker can press, and resolves once they press it. Waits at
   * most as long as Discord still lets the bot answer afterwards (an interaction token lives 15 minutes; a press
   * brings a fresh one); rejects with a MailopsError (code `no-answer`) when nobody pressed in time or mailops is
   * stopping. Prompts of one run are shown one after the other.
   */
  waitForPress(prompt: PressPrompt): Promise<void>;
}

export interface PressPrompt {
  /** What the invoker is asked to do (Markdown: put anything to copy in a code block). */
  text: string;
  /** The button's label, like "Published". */
  button: string;
  /** The progress line once it is pressed. */
  working?: string;
}

/** What a command answers. Everything but `secret` may be seen by the whole channel. */
export interface Reply {
  content?: string;
  embeds?: APIEmbed[];
  /** A secret meant for the invoker alone (a generated password): sent only in an ephemeral message, never logged. */
  secret?: { label: string; value: string };
}

export interface SecretPrompt<Input> {
  /** Whether to ask, from the options given (for example `type-password: true`). */
  when(input: Input): boolean;
  /** The modal's title and the text field's label. */
  title: string;
  label: string;
  minLength: number;
  maxLength: number;
}

export interface MailCommand<Options extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line for Discord's command picker (at most 100 characters). */
  description: string;
  access: Access;
  options: Options;
  /** The name of the option that says what a change is about (checked by defineCommand). */
  target?: string;
  visibility?: 'public' | 'private';
  askSecret?: SecretPrompt<OptionValues<Options>>;
  working?: string;
  // Methods rather than function properties, so that a command with its own options is a MailCommand too.
  /** True when these options make a reading command a change (admin role, audit post). */
  changes?(input: OptionValues<Options>): boolean;
  confirm?(input: OptionValues<Options>, context: CommandContext): Promise<string | undefined> | string | undefined;
  execute?(context: CommandContext, input: OptionValues<Options>): Promise<Reply>;
}

/** Declares a command; the identity function that lets TypeScript type `execute`'s input from `options`. */
export function defineCommand<Options extends OptionSpecs>(command: MailCommand<Options> & { target?: keyof Options & string }): MailCommand<Options> {
  return command;
}
