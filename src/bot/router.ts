// Every interaction the bot receives goes through `handle`, which never throws: whatever happens, the person gets an
// ephemeral answer when one can still be sent, and the bot carries on.
//
// A /mail subcommand runs as:
//   find the command → check the member's roles (refusals are answered privately and audited) → read the options →
//   "not available yet" when it has no execute → the password modal when it asks for one (the run continues when the
//   modal is submitted) → acknowledge (defer) → the confirmation question when it has one (the run continues when
//   the invoker presses Confirm) → execute, with progress edits → the result → the audit post for a change.
// Buttons and modals find their waiting run by the key in their custom id; a button pressed by anyone but the
// invoker changes nothing and tells them so.

import { MessageFlags, ModalBuilder, TextInputBuilder, TextInputStyle, LabelBuilder, type AutocompleteInteraction, type ButtonInteraction,
  type ChatInputCommandInteraction, type Interaction, type ModalSubmitInteraction } from 'discord.js';
import { asMailopsError, type MailopsError } from '../errors.ts';
import { recordRefusal } from '../ops/change.ts';
import { operationContext } from '../ops/context.ts';
import type { Runtime } from '../runtime.ts';
import { decideAccess } from './access.ts';
import type { AuditChannel } from './audit-channel.ts';
import type { Access, CommandContext, MailCommand } from './command.ts';
import { rootCommandName } from './loader.ts';
import { readOptions, type OptionValues, type OptionSpecs } from './options.ts';
import { PendingStore } from './pending.ts';
import { cancelPrefix, confirmPrefix, Response, type AnswerableInteraction } from './response.ts';
import type { SuggestionCache } from './suggestions.ts';
import type { CommandOutcome } from '../health/metrics.ts';

const secretPrefix = 'mail:secret:';
const secretField = 'secret';

export interface RouterOptions {
  runtime: Runtime;
  commands: readonly MailCommand[];
  audit: AuditChannel;
  suggestions: SuggestionCache;
  /** How long Confirm/Cancel stay usable (60 s). */
  confirmTimeoutMs: number;
  /** How long a shown password modal stays usable. */
  secretTimeoutMs: number;
  /** Told of every finished command, for /metrics. */
  observe?: (command: string, outcome: CommandOutcome, seconds: number) => void;
}

interface Invocation {
  command: MailCommand;
  input: OptionValues<OptionSpecs>;
  /** The access this run needs (a reading command with `changes` may need 'change'). */
  access: Access;
  userId: string;
  actor: string;
  ephemeral: boolean;
  secret?: string;
  /** When the command arrived (performance.now()), for its duration. */
  startedAt: number;
}

interface WaitingConfirmation {
  invocation: Invocation;
  response: Response;
  question: string;
}

function accessOf(command: MailCommand, input: OptionValues<OptionSpecs>): Access {
  return command.changes?.(input) ? 'change' : command.access;
}

export class Router {
  readonly #options: RouterOptions;
  readonly #commands: Map<string, MailCommand>;
  readonly #confirmations: PendingStore<WaitingConfirmation>;
  readonly #secretPrompts: PendingStore<Invocation>;
  #closing = false;

  constructor(options: RouterOptions) {
    this.#options = options;
    this.#commands = new Map(options.commands.map((command) => [command.name, command]));
    this.#confirmations = new PendingStore(options.confirmTimeoutMs, (waiting) => {
      void waiting.response.close(`${waiting.question}\n⌛ Not confirmed in time: nothing was changed.`);
    });
    this.#secretPrompts = new PendingStore(options.secretTimeoutMs);
  }

  /** From now on, new work is declined (shutdown); waiting confirmations and modals are dropped. */
  close(): void {
    this.#closing = true;
    this.#confirmations.clear();
    this.#secretPrompts.clear();
  }

  async handle(interaction: Interaction): Promise<void> {
    try {
      if (interaction.isAutocomplete()) await this.#autocomplete(interaction);
      else if (interaction.isChatInputCommand()) await this.#command(interaction);
      else if (interaction.isButton()) await this.#button(interaction);
      else if (interaction.isModalSubmit()) await this.#modalSubmit(interaction);
      else if (interaction.isRepliable()) await interaction.reply({ content: 'mailops does not handle this kind of interaction.', flags: MessageFlags.Ephemeral });
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
      await answer.tell(`❌ mailops does not know ${shown}. The registered commands do not match this version of the bot: run \`npm run register\`.`);
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
    const access = input === undefined ? (command.changes ? 'change' : command.access) : accessOf(command, input);
    const decision = decideAccess(this.#options.runtime.config, access, interaction, label);
    if (!decision.allowed) {
      const target = command.target === undefined ? '' : interaction.options.getString(command.target) ?? '';
      await this.#refuse(interaction.user.id, this.#actor(interaction), command, target, decision.reason);
      await answer.tell(`⛔ ${decision.message}`);
      return;
    }
    if (input === undefined) {
      await answer.fail(asMailopsError(inputError));
      return;
    }
    if (!command.execute) {
      await answer.tell(`🚧 ${label} is not available yet in this version of mailops. Nothing was changed.`);
      return;
    }
    const invocation: Invocation = {
      command, input, access, userId: interaction.user.id, actor: this.#actor(interaction), ephemeral: command.visibility === 'private', startedAt: performance.now(),
    };
    if (command.askSecret?.when(input)) {
      await this.#showSecretPrompt(interaction, invocation);
      return;
    }
    await this.#start(invocation, this.#response(interaction, invocation.ephemeral));
  }

  async #showSecretPrompt(interaction: ChatInputCommandInteraction, invocation: Invocation): Promise<void> {
    const prompt = invocation.command.askSecret;
    if (!prompt) return;
    const key = this.#secretPrompts.add(invocation);
    const modal = new ModalBuilder().setCustomId(`${secretPrefix}${key}`).setTitle(prompt.title).addLabelComponents(
      new LabelBuilder().setLabel(prompt.label).setTextInputComponent(new TextInputBuilder().setCustomId(secretField)
        .setStyle(TextInputStyle.Short).setMinLength(prompt.minLength).setMaxLength(prompt.maxLength).setRequired(true)),
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
    const invocation = interaction.customId.startsWith(secretPrefix) ? this.#secretPrompts.take(interaction.customId.slice(secretPrefix.length)) : undefined;
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
      await answer.tell(`Only <@${waiting.invocation.userId}>, who ran the command, can answer this.`);
      return;
    }
    this.#confirmations.take(key);
    const response = this.#response(interaction, waiting.invocation.ephemeral);
    if (!confirm) {
      await response.acknowledge(`${waiting.question}\n✖️ Cancelled: nothing was changed.`);
      return;
    }
    if (!await response.acknowledge(`⏳ ${waiting.invocation.command.working ?? 'Working…'}`)) return;
    await this.#run(waiting.invocation, response);
  }

  async #autocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const command = interaction.commandName === rootCommandName ? this.#commands.get(interaction.options.getSubcommand(false) ?? '') : undefined;
    const focused = interaction.options.getFocused(true);
    const source = command?.options[focused.name];
    const allowed = command !== undefined && decideAccess(this.#options.runtime.config, command.access, interaction, command.name).allowed;
    let values: string[] = [];
    if (!this.#closing && allowed && source?.kind === 'text' && source.suggest) {
      values = await this.#options.suggestions.suggest(source.suggest, String(focused.value));
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
    if (!await response.acknowledge()) return;
    const { command } = invocation;
    if (command.confirm) {
      let question: string | undefined;
      try {
        question = await command.confirm(invocation.input, this.#context(invocation, response));
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
      const reply = await (command.execute as NonNullable<MailCommand['execute']>)(this.#context(invocation, response), invocation.input);
      await response.finish(reply);
    } catch (error) {
      await this.#failed(invocation, response, asMailopsError(error));
      return;
    }
    this.#logger.info({ command: command.name, actor: invocation.actor }, 'command done');
    this.#options.observe?.(command.name, 'ok', (performance.now() - invocation.startedAt) / 1000);
    if (invocation.access === 'change') {
      this.#options.suggestions.clear();
      await this.#options.audit.post({ userId: invocation.userId, operation: command.name, target: this.#target(invocation), outcome: 'ok' });
    }
  }

  async #failed(invocation: Invocation, response: Response, failure: MailopsError): Promise<void> {
    const { command } = invocation;
    if (failure.code === 'internal') this.#logger.error({ err: failure.cause ?? failure, command: command.name }, 'command failed unexpectedly');
    else this.#logger.info({ command: command.name, actor: invocation.actor, code: failure.code }, 'command failed');
    await response.fail(failure);
    this.#options.observe?.(command.name, 'failed', (performance.now() - invocation.startedAt) / 1000);
    if (invocation.access === 'change') {
      await this.#options.audit.post({ userId: invocation.userId, operation: command.name, target: this.#target(invocation), outcome: 'failed', detail: failure.code });
    }
  }

  async #refuse(userId: string, actor: string, command: MailCommand, target: string, reason: string): Promise<void> {
    const { runtime } = this.#options;
    this.#options.observe?.(command.name, 'refused', 0);
    try {
      recordRefusal({ database: runtime.database(), logger: runtime.logger, actor, now: () => runtime.now() }, { operation: command.name, target }, reason);
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not record a refusal in the audit trail');
    }
    await this.#options.audit.post({ userId, operation: command.name, target, outcome: 'refused', detail: reason });
  }

  #context(invocation: Invocation, response: Response): CommandContext {
    const { runtime } = this.#options;
    return {
      runtime,
      actor: invocation.actor,
      secret: invocation.secret,
      operation: () => operationContext(runtime, invocation.actor),
      progress: (text) => response.progress(text),
    };
  }

  #target(invocation: Invocation): string {
    const { target } = invocation.command;
    return target === undefined ? '' : String(invocation.input[target] ?? '');
  }

  #actor(interaction: Interaction): string {
    return `discord:${interaction.user.id}(${interaction.user.username})`;
  }
}
