// The answer to one interaction, from the first acknowledgement to the result, with Discord's rules kept in one place:
//   - acknowledge within 3 seconds: a deferred reply (ephemeral for private commands), or for a pressed button an
//     update of its message (which also removes the buttons, so nobody presses twice);
//   - progress and the result edit that reply (`@original`);
//   - a button offered during the work (`offer`) holds the reply until it is pressed: progress lines wait meanwhile,
//     and the press's own interaction carries the answer on (`continueWith`), with a fresh 15-minute token;
//   - a secret goes only into an ephemeral message: the reply itself when it is ephemeral, otherwise a separate
//     ephemeral follow-up — the public reply never carries it;
//   - an error is always ephemeral: a public reply is deleted and the error follows up privately.
// Sending can fail (the token expired, Discord answered an error): that is logged and never thrown, because there is
// nobody left to tell.

import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  MessageFlags,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type InteractionEditReplyOptions,
  type ModalSubmitInteraction,
} from 'discord.js';
import type { Reply } from '../command/definition.ts';
import type { MailopsError } from '../errors.ts';
import type { Logger, Redactor } from '../log.ts';
import { embedInDiscordTerms, inDiscordTerms } from './front-hints.ts';
import { fitEmbeds } from './render.ts';

export type AnswerableInteraction = ChatInputCommandInteraction | ModalSubmitInteraction | ButtonInteraction;

export const confirmPrefix = 'mail:confirm:';
export const cancelPrefix = 'mail:cancel:';
export const pressPrefix = 'mail:press:';

/** How long Discord accepts edits and follow-ups with an interaction's token, from the interaction's creation. */
export const interactionTokenLifetimeMs = 15 * 60_000;

function secretLine(secret: NonNullable<Reply['secret']>): string {
  const fence = secret.value.includes('`') ? '``' : '`';
  return `**${secret.label}** (shown once, only to you): ${fence}${secret.value}${fence}`;
}

export class Response {
  readonly ephemeral: boolean;
  readonly #logger: Logger;
  readonly #redactor: Redactor;
  #interaction: AnswerableInteraction;
  /** A button offered by `offer` waits to be pressed; progress lines are kept for later meanwhile. */
  #offering = false;
  #latestProgress: string | undefined;

  constructor(interaction: AnswerableInteraction, ephemeral: boolean, logger: Logger, redactor: Redactor) {
    this.#interaction = interaction;
    this.ephemeral = ephemeral;
    this.#logger = logger;
    this.#redactor = redactor;
  }

  /** The interaction whose token answers now: the command's, or the button press that carried the answer on. */
  get interaction(): AnswerableInteraction {
    return this.#interaction;
  }

  /** When Discord stops accepting edits of this answer (epoch milliseconds). */
  get tokenExpiresAt(): number {
    return this.#interaction.createdTimestamp + interactionTokenLifetimeMs;
  }

  get acknowledged(): boolean {
    return this.#interaction.deferred || this.#interaction.replied;
  }

  /** The first answer, at once. For a pressed button, `text` replaces the question while the work runs. */
  async acknowledge(text = '⏳ Working…'): Promise<boolean> {
    return this.#send('acknowledge', async () => {
      if (this.#interaction.isButton()) await this.#interaction.update({ content: text, embeds: [], components: [] });
      else await this.#interaction.deferReply(this.ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    });
  }

  async progress(text: string): Promise<void> {
    this.#latestProgress = text;
    // An offered button stays until it is pressed; the latest line shows after that.
    if (this.#offering) return;
    await this.#edit('progress', { content: `⏳ ${text}`, embeds: [], components: [] });
  }

  /** Shows the question with Confirm/Cancel buttons whose custom ids carry `key`. */
  async ask(question: string, key: string, expiresAt: Date, invokerId: string): Promise<void> {
    await this.#prompt(
      'confirmation',
      question,
      [
        new ButtonBuilder().setCustomId(`${confirmPrefix}${key}`).setLabel('Confirm').setStyle(ButtonStyle.Danger),
        new ButtonBuilder().setCustomId(`${cancelPrefix}${key}`).setLabel('Cancel').setStyle(ButtonStyle.Secondary),
      ],
      expiresAt,
      invokerId
    );
  }

  /** Shows `text` with one button labelled `label`, whose custom id carries `key`, while the work waits for it. */
  async offer(text: string, key: string, label: string, expiresAt: Date, invokerId: string): Promise<boolean> {
    this.#offering = true;
    return this.#prompt(
      'offered button',
      text,
      [new ButtonBuilder().setCustomId(`${pressPrefix}${key}`).setLabel(label).setStyle(ButtonStyle.Primary)],
      expiresAt,
      invokerId
    );
  }

  /** The offered button will not be pressed (it expired): progress lines show again. */
  withdrawOffer(): void {
    this.#offering = false;
  }

  /**
   * The invoker pressed the offered button: the press is acknowledged by replacing the button with `working` (or the
   * latest progress line), and from now on the answer goes through the press's interaction and its fresh token.
   */
  async continueWith(press: ButtonInteraction, working?: string): Promise<boolean> {
    this.#offering = false;
    this.#interaction = press;
    return this.acknowledge(`⏳ ${working ?? this.#latestProgress ?? 'Working…'}`);
  }

  async #prompt(what: string, text: string, buttons: ButtonBuilder[], expiresAt: Date, invokerId: string): Promise<boolean> {
    const footer = `-# Only <@${invokerId}> can answer. Expires <t:${Math.ceil(expiresAt.getTime() / 1000)}:R>.`;
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(...buttons);
    return this.#send(what, () =>
      this.#interaction.editReply({ content: `${text}\n${footer}`, embeds: [], components: [row.toJSON()], allowedMentions: { parse: [] } })
    );
  }

  /** Replaces the question (or anything else) with a closing line and no buttons. */
  async close(text: string): Promise<void> {
    await this.#edit('close', { content: text, embeds: [], components: [] });
  }

  async finish(reply: Reply): Promise<void> {
    const { secret } = reply;
    if (secret) this.#redactor.add(secret.value);
    const content = [inDiscordTerms(reply.content ?? ''), secret && this.ephemeral ? secretLine(secret) : '']
      .filter((part) => part !== '')
      .join('\n');
    await this.#edit('result', {
      content,
      embeds: fitEmbeds((reply.embeds ?? []).map(embedInDiscordTerms)),
      components: [],
      allowedMentions: { parse: [] },
    });
    if (secret && !this.ephemeral) {
      await this.#send('secret follow-up', () =>
        this.#interaction.followUp({ content: secretLine(secret), flags: MessageFlags.Ephemeral })
      );
    }
  }

  /** Says something to the invoker alone, whatever state the reply is in. */
  async tell(said: string): Promise<void> {
    const text = inDiscordTerms(said);
    if (!this.acknowledged) {
      await this.#send('ephemeral reply', () =>
        this.#interaction.reply({ content: text, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } })
      );
    } else if (this.ephemeral) {
      await this.#edit('ephemeral message', { content: text, embeds: [], components: [] });
    } else {
      await this.#send('delete public reply', () => this.#interaction.deleteReply());
      await this.#send('ephemeral follow-up', () =>
        this.#interaction.followUp({ content: text, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } })
      );
    }
  }

  async fail(error: MailopsError): Promise<void> {
    await this.tell(`❌ ${error.explanation}`);
  }

  async #edit(what: string, options: InteractionEditReplyOptions): Promise<void> {
    await this.#send(what, () => this.#interaction.editReply(options));
  }

  async #send(what: string, send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      this.#logger.warn({ err: error, interaction: this.#interaction.id, step: what }, 'could not answer on Discord');
      return false;
    }
  }
}
