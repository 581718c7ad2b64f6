// Every interaction the bot receives goes through `handle`, which never throws: whatever happens, the person gets an
// ephemeral answer when one can still be sent, and the bot carries on.
//
// A /mail subcommand runs as:
//   find the command's definition (src/command/definition.ts) → check the member's roles (refusals are answered
//   privately and audited) → read the options → the password form when the person chose to type one (the run continues
//   when the form is submitted) → acknowledge (defer) → the confirmation question when the change asks one
//   (src/ops/confirmation.ts; the run continues when the invoker presses Confirm) → run, with progress edits and any
//   buttons it waits for (`waitForPress`) → the result rendered for Discord → the audit post for a change.
// Buttons and modals find their waiting run by the key in their custom id; a button pressed by anyone but the
// invoker changes nothing and tells them so. Roles are checked again at every press and every modal submission, from
// the member as Discord sends them with that interaction: a member whose admin role was taken away after running the
// command cannot confirm it, cancel it or press its buttons — the question closes, the waiting work is put back, and
// the refusal is audited like any other.
//
// A button waited for during execute is offered for as long as Discord lets the bot answer after it: the current
// interaction token's 15 minutes, less a reserve for putting things back and saying so when nobody presses.

import {
  MessageFlags,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  LabelBuilder,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { accessFor, targetOf, type Access, type CommandDefinition, type PressPrompt, type RunContext } from '../command/definition.ts';
import type { OptionSpecs, OptionValues } from '../command/options.ts';
import { asMailopsError, failedError, refusedError, type MailopsError } from '../errors.ts';
import type { CommandOutcome } from '../health/metrics.ts';
import { recordRefusal } from '../ops/change.ts';
import { operationContext } from '../ops/context.ts';
import type { Runtime } from '../runtime.ts';
import type { AuditChannel } from './audit-channel.ts';
import { publishingFor } from './dns-publishing.ts';
import { learnCommands } from './front-hints.ts';
import { readOptions, wantsTypedSecret } from './options.ts';
import { PendingStore } from './pending.ts';
import { inlineCode } from './render.ts';
import { cancelPrefix, confirmPrefix, interactionTokenLifetimeMs, pressPrefix, Response, type AnswerableInteraction } from './response.ts';
import { decideAccess } from './roles.ts';
import type { SuggestionCache } from './suggestions.ts';
import { discordCommands, rootCommandName } from './tree.ts';

const secretPrefix = 'mail:secret:';
const secretField = 'secret';
/** Kept back from a token's lifetime when waiting for a press: time to undo the work and say so if nobody presses. */
const pressReserveMs = 2 * 60_000;
/** A wait shorter than this is no wait for a person: fail at once instead. */
const shortestPressWaitMs = 5_000;

export interface RouterOptions {
  runtime: Runtime;
  commands: readonly CommandDefinition[];
  audit: AuditChannel;
  suggestions: SuggestionCache;
  /** How long Confirm/Cancel stay usable (60 s). */
  confirmTimeoutMs: number;
  /** How long a shown password modal stays usable. */
  secretTimeoutMs: number;
  /** The longest wait for a button offered during a command (default: as long as the interaction token allows). */
  pressTimeoutMs?: number;
  /** Told of every finished command, for /metrics. */
  observe?: (command: string, outcome: CommandOutcome, seconds: number) => void;
}

interface Invocation {
  command: CommandDefinition;
  input: OptionValues<OptionSpecs>;
  /** The access this run needs (a reading command with `changes` may need 'change'). */
  access: Access;
  userId: string;
  actor: string;
  ephemeral: boolean;
  secret?: string;
  /** Whether the invoker pressed Confirm. */
  confirmed: boolean;
  /** When the command arrived (performance.now()), for its duration. */
  startedAt: number;
}

interface WaitingConfirmation {
  invocation: Invocation;
  response: Response;
  question: string;
}

interface WaitingPress {
  invocation: Invocation;
  userId: string;
  response: Response;
  prompt: PressPrompt;
  waitedMs: number;
  pressed(): void;
  notPressed(error: MailopsError): void;
}

/** How long a button offered at `now` may wait: what is left of the token's lifetime less the reserve, at most `limitMs`. */
export function pressWaitMs(tokenExpiresAt: number, now: number, limitMs = Infinity): number {
  return Math.min(limitMs, tokenExpiresAt - now - pressReserveMs);
}

export function duration(ms: number): string {
  return ms < 90_000 ? `${Math.round(ms / 1000)} seconds` : `${Math.round(ms / 60_000)} minutes`;
}

const notTheInvoker = (userId: string) => `Only <@${userId}>, who ran the command, can answer this.`;

export class Router {
  readonly #options: RouterOptions;
  readonly #commands: Map<string, CommandDefinition>;
  readonly #confirmations: PendingStore<WaitingConfirmation>;
  readonly #secretPrompts: PendingStore<Invocation>;
  readonly #presses: PendingStore<WaitingPress>;
  #closing = false;

  constructor(options: RouterOptions) {
    this.#options = options;
    learnCommands(options.commands);
    this.#commands = new Map(discordCommands(options.commands).map((command) => [command.name, command]));
    this.#confirmations = new PendingStore(options.confirmTimeoutMs, (waiting) => {
      void waiting.response.close(`${waiting.question}\n⌛ Not confirmed in time: nothing was changed.`);
    });
    this.#secretPrompts = new PendingStore(options.secretTimeoutMs);
    this.#presses = new PendingStore(interactionTokenLifetimeMs, (waiting) => {
      waiting.response.withdrawOffer();
      waiting.notPressed(
        failedError('no-answer', `Nobody pressed "${waiting.prompt.button}" within ${duration(waiting.waitedMs)}.`, {
          hint: 'Run the command again when you can answer.',
        })
      );
    });
  }

  /**
   * From now on, new work is declined (shutdown); waiting confirmations and modals are dropped, and work waiting for a
   * button stops waiting (it puts back what it did, while mailops still may).
   */
  close(): void {
    this.#closing = true;
    this.#confirmations.clear();
    this.#secretPrompts.clear();
    for (const waiting of this.#presses.takeAll()) {
      waiting.response.withdrawOffer();
      waiting.notPressed(
        failedError('no-answer', `mailops is stopping, so it stopped waiting for "${waiting.prompt.button}".`, {
          hint: 'Run the command again once mailops is back.',
        })
      );
    }
  }

  async handle(interaction: Interaction): Promise<void> {
    try {
      if (interaction.isAutocomplete()) await this.#autocomplete(interaction);
      else if (interaction.isChatInputCommand()) await this.#command(interaction);
      else if (interaction.isButton()) await this.#button(interaction);
      else if (interaction.isModalSubmit()) await this.#modalSubmit(interaction);
      else if (interaction.isRepliable())
        await interaction.reply({ content: 'mailops does not handle this kind of interaction.', flags: MessageFlags.Ephemeral });
    } catch (error) {
      // A bug of ours; the person still hears about it when that is possible.
      this.#logger.error({ err: error, interaction: interaction.id }, 'interaction failed unexpectedly');
      if (interaction.isRepliable()) {
        await this.#response(interaction as AnswerableInteraction, true).fail(asMailopsError(error));
      }
    }
  }

  get #logger() {
    return this.#options.runtime.logger;
  }

  #response(interaction: AnswerableInteraction, ephemeral: boolean): Response {
    return new Response(interaction, ephemeral, this.#logger, this.#options.runtime.redactor);
  }

  async #command(interaction: ChatInputCommandInteraction): Promise<void> {
    const answer = this.#response(interaction, true);
    const name = interaction.commandName === rootCommandName ? interaction.options.getSubcommand(false) : null;
    const command = name === null ? undefined : this.#commands.get(name);
    if (!command) {
      const shown = `/${interaction.commandName}${name === null ? '' : ` ${name}`}`;
      this.#logger.warn({ command: shown }, 'unknown command');
      await answer.tell(
        `❌ mailops does not know ${shown}. The registered commands do not match this version of the bot: run \`npm run register\`.`
      );
      return;
    }
    if (this.#closing) {
      await answer.tell('mailops is restarting; run the command again in a minute.');
      return;
    }
    const label = `/mail ${command.name}`;
    let input: OptionValues<OptionSpecs> | undefined;
    let inputError: unknown;
    try {
      input = readOptions(command.options, interaction.options);
    } catch (error) {
      inputError = error;
    }
    // Unreadable options: judge by the strictest access the command can need.
    const access = input === undefined ? (command.changes ? 'change' : command.access) : accessFor(command, input);
    const decision = decideAccess(this.#options.runtime.config, access, interaction, label);
    if (!decision.allowed) {
      const target = command.target === undefined ? '' : (interaction.options.getString(command.target) ?? '');
      await this.#refuse(interaction.user.id, this.#actor(interaction), command, target, decision.reason);
      await answer.tell(`⛔ ${decision.message}`);
      return;
    }
    if (input === undefined) {
      await answer.fail(asMailopsError(inputError));
      return;
    }
    const invocation: Invocation = {
      command,
      input,
      access,
      userId: interaction.user.id,
      actor: this.#actor(interaction),
      ephemeral: command.visibility === 'private',
      confirmed: false,
      startedAt: performance.now(),
    };
    if (wantsTypedSecret(command, interaction.options)) {
      await this.#showSecretPrompt(interaction, invocation);
      return;
    }
    await this.#start(invocation, this.#response(interaction, invocation.ephemeral));
  }

  async #showSecretPrompt(interaction: ChatInputCommandInteraction, invocation: Invocation): Promise<void> {
    const prompt = invocation.command.secret;
    if (!prompt) return;
    const key = this.#secretPrompts.add(invocation);
    const modal = new ModalBuilder()
      .setCustomId(`${secretPrefix}${key}`)
      .setTitle(prompt.title)
      .addLabelComponents(
        new LabelBuilder()
          .setLabel(prompt.label)
          .setTextInputComponent(
            new TextInputBuilder()
              .setCustomId(secretField)
              .setStyle(TextInputStyle.Short)
              .setMinLength(prompt.minLength)
              .setMaxLength(prompt.maxLength)
              .setRequired(true)
          )
      );
    try {
      await interaction.showModal(modal);
    } catch (error) {
      this.#secretPrompts.take(key);
      this.#logger.warn({ err: error, interaction: interaction.id }, 'could not show the password form');
    }
  }

  async #modalSubmit(interaction: ModalSubmitInteraction): Promise<void> {
    const answer = this.#response(interaction, true);
    const invocation = interaction.customId.startsWith(secretPrefix)
      ? this.#secretPrompts.take(interaction.customId.slice(secretPrefix.length))
      : undefined;
    if (!invocation || invocation.userId !== interaction.user.id || this.#closing) {
      await answer.tell('⌛ This form has expired (or mailops restarted): nothing was changed. Run the command again.');
      return;
    }
    const secret = interaction.fields.getTextInputValue(secretField);
    this.#options.runtime.redactor.add(secret);
    // Roles may have changed while the form was open.
    const decision = decideAccess(this.#options.runtime.config, invocation.access, interaction, `/mail ${invocation.command.name}`);
    if (!decision.allowed) {
      await this.#refuse(interaction.user.id, invocation.actor, invocation.command, this.#target(invocation), decision.reason);
      await answer.tell(`⛔ ${decision.message}`);
      return;
    }
    await this.#start({ ...invocation, secret }, this.#response(interaction, invocation.ephemeral));
  }

  async #button(interaction: ButtonInteraction): Promise<void> {
    const answer = this.#response(interaction, true);
    const { customId } = interaction;
    if (customId.startsWith(pressPrefix)) {
      await this.#pressed(interaction, answer, customId.slice(pressPrefix.length));
      return;
    }
    const confirm = customId.startsWith(confirmPrefix);
    if (!confirm && !customId.startsWith(cancelPrefix)) {
      await answer.tell('This button is not in use any more.');
      return;
    }
    const key = customId.slice((confirm ? confirmPrefix : cancelPrefix).length);
    const waiting = this.#confirmations.get(key);
    if (!waiting) {
      await answer.tell('⌛ This question has expired or was answered already: nothing was changed. Run the command again.');
      return;
    }
    if (interaction.user.id !== waiting.invocation.userId) {
      await answer.tell(notTheInvoker(waiting.invocation.userId));
      return;
    }
    this.#confirmations.take(key);
    const response = this.#response(interaction, waiting.invocation.ephemeral);
    const refusal = await this.#refusedAtPress(waiting.invocation, interaction);
    if (refusal !== undefined) {
      await response.acknowledge(`${waiting.question}\n⛔ ${refusal} Nothing was changed.`);
      return;
    }
    if (!confirm) {
      await response.acknowledge(`${waiting.question}\n✖️ Cancelled: nothing was changed.`);
      return;
    }
    if (!(await response.acknowledge(`⏳ ${waiting.invocation.command.working ?? 'Working…'}`))) return;
    await this.#run({ ...waiting.invocation, confirmed: true }, response);
  }

  /** A button offered by `waitForPress`: the invoker's press lets the work go on, through the press's interaction. */
  async #pressed(interaction: ButtonInteraction, answer: Response, key: string): Promise<void> {
    const waiting = this.#presses.get(key);
    if (!waiting) {
      await answer.tell('⌛ This button has expired or was pressed already. Run the command again if its work did not finish.');
      return;
    }
    if (interaction.user.id !== waiting.userId) {
      await answer.tell(notTheInvoker(waiting.userId));
      return;
    }
    this.#presses.take(key);
    const refusal = await this.#refusedAtPress(waiting.invocation, interaction);
    if (refusal !== undefined) {
      await answer.tell(`⛔ ${refusal}`);
      waiting.response.withdrawOffer();
      waiting.notPressed(
        refusedError(
          'no-role-at-press',
          `"${waiting.prompt.button}" was pressed by a member who may no longer run /mail ${waiting.invocation.command.name}.`,
          'Ask a server admin for the mailops admin role, then run the command again.'
        )
      );
      return;
    }
    await waiting.response.continueWith(interaction, waiting.prompt.working);
    waiting.pressed();
  }

  /** Offers the prompt's button on the run's reply and waits for the invoker to press it (see CommandContext). */
  async #waitForPress(invocation: Invocation, response: Response, prompt: PressPrompt): Promise<void> {
    const waitMs = pressWaitMs(response.tokenExpiresAt, Date.now(), this.#options.pressTimeoutMs);
    if (this.#closing)
      throw failedError('no-answer', `mailops is stopping, so it cannot wait for "${prompt.button}".`, {
        hint: 'Run the command again once mailops is back.',
      });
    if (waitMs < shortestPressWaitMs) {
      throw failedError('no-answer', `Discord leaves too little time to wait for "${prompt.button}" in this reply.`, {
        hint: `An answer can wait at most ${duration(interactionTokenLifetimeMs - pressReserveMs)}; run the command again and answer within that time.`,
      });
    }
    let key = '';
    const pressed = new Promise<void>((resolve, reject) => {
      key = this.#presses.add(
        { invocation, userId: invocation.userId, response, prompt, waitedMs: waitMs, pressed: resolve, notPressed: reject },
        waitMs
      );
    });
    // Settled maybe before it is awaited below (mailops stopping while the button is being shown): never unhandled.
    pressed.catch(() => undefined);
    if (
      !(await response.offer(prompt.text, key, prompt.button, new Date(Date.now() + waitMs), invocation.userId)) &&
      this.#presses.take(key)
    ) {
      response.withdrawOffer();
      throw failedError('no-answer', `The "${prompt.button}" button could not be shown on Discord.`, {
        hint: 'The log says why; run the command again.',
      });
    }
    await pressed;
  }

  /**
   * The member's roles as Discord sends them with this press: why they may no longer answer for the invocation (the
   * refusal is audited), or undefined when they still may.
   */
  async #refusedAtPress(invocation: Invocation, interaction: ButtonInteraction): Promise<string | undefined> {
    const decision = decideAccess(this.#options.runtime.config, invocation.access, interaction, `/mail ${invocation.command.name}`);
    if (decision.allowed) return undefined;
    await this.#refuse(
      interaction.user.id,
      invocation.actor,
      invocation.command,
      this.#target(invocation),
      `${decision.reason} at press time`
    );
    return decision.message;
  }

  async #autocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const command =
      interaction.commandName === rootCommandName ? this.#commands.get(interaction.options.getSubcommand(false) ?? '') : undefined;
    const focused = interaction.options.getFocused(true);
    const source = command?.options[focused.name];
    const allowed = command !== undefined && decideAccess(this.#options.runtime.config, command.access, interaction, command.name).allowed;
    let values: string[] = [];
    if (!this.#closing && allowed && source?.kind === 'text' && source.suggest) {
      values = await this.#options.suggestions.suggest(source.suggest, focused.value);
    }
    try {
      // Discord takes choices of at most 100 characters.
      await interaction.respond(values.filter((value) => value.length <= 100).map((value) => ({ name: value, value })));
    } catch (error) {
      this.#logger.warn({ err: error, interaction: interaction.id }, 'could not answer autocomplete');
    }
  }

  /** Acknowledges, then asks the command's question (if any) or runs it. */
  async #start(invocation: Invocation, response: Response): Promise<void> {
    if (!(await response.acknowledge())) return;
    const { command } = invocation;
    if (command.confirm) {
      let question: string | undefined;
      try {
        question = await command.confirm(invocation.input, {
          operation: operationContext(this.#options.runtime, invocation.actor),
          show: inlineCode,
        });
      } catch (error) {
        await this.#failed(invocation, response, asMailopsError(error));
        return;
      }
      if (question !== undefined) {
        const key = this.#confirmations.add({ invocation, response, question });
        await response.ask(question, key, new Date(Date.now() + this.#options.confirmTimeoutMs), invocation.userId);
        return;
      }
    }
    if (command.working) await response.progress(command.working);
    await this.#run(invocation, response);
  }

  async #run(invocation: Invocation, response: Response): Promise<void> {
    const { command } = invocation;
    try {
      const result = await command.run(this.#context(invocation, response), invocation.input);
      await response.finish(await command.render.discord!(result));
    } catch (error) {
      await this.#failed(invocation, response, asMailopsError(error));
      return;
    }
    this.#logger.info({ command: command.name, actor: invocation.actor }, 'command done');
    this.#options.observe?.(command.name, 'ok', (performance.now() - invocation.startedAt) / 1000);
    if (invocation.access === 'change') {
      this.#options.suggestions.clear();
      await this.#options.audit.post({
        userId: invocation.userId,
        operation: command.name,
        target: this.#target(invocation),
        outcome: 'ok',
      });
    }
  }

  async #failed(invocation: Invocation, response: Response, failure: MailopsError): Promise<void> {
    const { command } = invocation;
    if (failure.code === 'internal')
      this.#logger.error({ err: failure.cause ?? failure, command: command.name }, 'command failed unexpectedly');
    else this.#logger.info({ command: command.name, actor: invocation.actor, code: failure.code }, 'command failed');
    await response.fail(failure);
    this.#options.observe?.(command.name, 'failed', (performance.now() - invocation.startedAt) / 1000);
    if (invocation.access === 'change') {
      await this.#options.audit.post({
        userId: invocation.userId,
        operation: command.name,
        target: this.#target(invocation),
        outcome: 'failed',
        detail: failure.code,
      });
    }
  }

  async #refuse(userId: string, actor: string, command: CommandDefinition, target: string, reason: string): Promise<void> {
    const { runtime } = this.#options;
    this.#options.observe?.(command.name, 'refused', 0);
    try {
      recordRefusal(
        { database: runtime.database(), logger: runtime.logger, actor, now: () => runtime.now() },
        { operation: command.name, target },
        reason
      );
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not record a refusal in the audit trail');
    }
    await this.#options.audit.post({ userId, operation: command.name, target, outcome: 'refused', detail: reason });
  }

  #context(invocation: Invocation, response: Response): RunContext {
    const { runtime } = this.#options;
    // One reply shows one button at a time: prompts of this run wait for the one before them.
    let prompts: Promise<unknown> = Promise.resolve();
    const context: RunContext = {
      front: 'discord',
      runtime,
      actor: invocation.actor,
      secret: invocation.secret,
      confirmed: invocation.confirmed,
      operation: () => operationContext(runtime, invocation.actor),
      publishing: () => publishingFor(context),
      progress: (text) => response.progress(text),
      waitForPress: (prompt) => {
        const waited = prompts.then(() => this.#waitForPress(invocation, response, prompt));
        prompts = waited.catch(() => undefined);
        return waited;
      },
    };
    return context;
  }

  #target(invocation: Invocation): string {
    return targetOf(invocation.command, invocation.input);
  }

  #actor(interaction: Interaction): string {
    return `discord:${interaction.user.id}(${interaction.user.username})`;
  }
}
