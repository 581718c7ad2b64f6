// Embeds for results: the colours mailops uses, and Discord's size limits applied to whatever a command renders
// (a long list of senders must shorten, not make Discord reject the whole reply).

import type { APIEmbed, APIEmbedField } from 'discord.js';
import type { Reply } from '../command/definition.ts';
import type { PasswordResult } from '../ops/senders.ts';
import type { AlertFact } from '../schedule/outcome.ts';
import { printable } from '../validation/domain.ts';

export const colours = { ok: 0x2e7d32, warn: 0xf9a825, fail: 0xc62828, info: 0x1565c0 } as const;

const limits = { title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, total: 6000, embeds: 10 };

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function fitEmbed(embed: APIEmbed): APIEmbed {
  const fitted: APIEmbed = { ...embed };
  if (fitted.title !== undefined) fitted.title = cut(fitted.title, limits.title);
  if (fitted.description !== undefined) fitted.description = cut(fitted.description, limits.description);
  if (fitted.footer) fitted.footer = { ...fitted.footer, text: cut(fitted.footer.text, limits.footer) };
  if (fitted.fields) {
    fitted.fields = fitted.fields.slice(0, limits.fields).map((field): APIEmbedField => ({
      ...field,
      name: cut(field.name || '\u200b', limits.fieldName),
      value: cut(field.value || '\u200b', limits.fieldValue),
    }));
  }
  return fitted;
}

function size(embed: APIEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0)
  );
}

/** The embeds cut to Discord's limits: per field, per embed, and 6000 characters over all of them. */
export function fitEmbeds(embeds: readonly APIEmbed[]): APIEmbed[] {
  const fitted: APIEmbed[] = [];
  let total = 0;
  for (const embed of embeds.slice(0, limits.embeds).map(fitEmbed)) {
    let current = embed;
    while (total + size(current) > limits.total && (current.fields?.length ?? 0) > 0) {
      current = { ...current, fields: current.fields?.slice(0, -1) };
    }
    if (total + size(current) > limits.total && current.description !== undefined) {
      current = {
        ...current,
        description: cut(current.description, Math.max(1, limits.total - total - size({ ...current, description: '' }))),
      };
    }
    if (total + size(current) > limits.total) break;
    total += size(current);
    fitted.push(current);
  }
  return fitted;
}

/** A fact as an embed field: its label, its sentence (at most 200 characters), its detail as a code block that fits. */
export function factField(fact: AlertFact): APIEmbedField {
  const text = fact.text.length > 200 ? `${fact.text.slice(0, 199)}…` : fact.text;
  if (fact.detail === undefined) return { name: fact.label, value: text };
  const max = 1024 - text.length - 12;
  const detail = fact.detail.length > max ? `${fact.detail.slice(0, max - 1)}…` : fact.detail;
  return { name: fact.label, value: `${text}\n\`\`\`\n${detail.replaceAll('```', "'''")}\n\`\`\`` };
}

/** Text as inline code, whatever it holds: on one line, no backtick to escape from it, no mention. */
export function inlineCode(text: string, max = 100): string {
  return `\`${printable(text, max).replaceAll('`', "'")}\``;
}

/** Text as a code block (to copy from), whatever it holds: a fence inside it cannot close the block. */
export function codeBlock(text: string): string {
  return `\`\`\`\n${text.replaceAll('```', "'''")}\n\`\`\``;
}

/** An ISO-8601 time as Discord shows it to each reader, in their time zone: `date` (`<t:…:f>`) or `relative` (`<t:…:R>`). */
export function discordTime(iso: string, style: 'date' | 'relative' = 'date'): string {
  return `<t:${Math.floor(new Date(iso).getTime() / 1000)}:${style === 'date' ? 'f' : 'R'}>`;
}

/** The closing lines of a change to senders or aliases: what mailops repaired, restarts, warnings, when it is live. */
export function changeNotes(result: { restarted: boolean; restartReason?: string; repaired: string[]; warnings?: string[] }): string {
  const lines: string[] = [];
  if (result.restarted) lines.push(`chasquid was restarted${result.restartReason === undefined ? '' : ` (${result.restartReason})`}.`);
  for (const repair of result.repaired) lines.push(`Repaired so that chasquid can read it: ${repair}`);
  for (const warning of result.warnings ?? []) lines.push(`⚠️ ${warning}`);
  lines.push('chasquid picks up the change within 30 seconds.');
  return lines.join('\n');
}

/** The reply of user-add and passwd: the result for the invoker, and a generated password as the reply's secret. */
export function passwordReply(result: PasswordResult, title: string): Reply {
  const typed = result.password === undefined ? 'With the password you typed.\n' : '';
  return {
    embeds: [{ title, color: colours.ok, description: `${typed}${changeNotes(result)}` }],
    ...(result.password === undefined ? {} : { secret: { label: `Password for ${result.address}`, value: result.password } }),
  };
}
