// The Discord messages of the scheduler (src/schedule): an alert (its title with the on-call mention when it pages, louder for an
// escalation, and an embed with the whole message and any fields), a health report (its embed), a notice. Mentions
// are allowed explicitly and only for the on-call role of a paging alert; nothing else can ping anyone.

import type { APIEmbed } from 'discord.js';
import type { AlertKind, JobAlert } from '../schedule/job.ts';
import { embedInDiscordTerms, inDiscordTerms } from './front-hints.ts';
import { colours, fitEmbeds } from './render.ts';

const icons: Record<AlertKind, string> = {
  drift: '🔀', recovery: '✅', 'renewal-failed': '❌', renewed: '✅', 'cert-mismatch': '⚠️', 'check-failed': '❌', 'dkim-retired': '🔑',
};
const embedColours: Record<AlertKind, number> = {
  drift: colours.fail, recovery: colours.ok, 'renewal-failed': colours.fail, renewed: colours.ok, 'cert-mismatch': colours.fail, 'check-failed': colours.warn, 'dkim-retired': colours.info,
};

const noMentions = { parse: [] as string[] };

export function alertMessage(alert: JobAlert, oncallRoleId: string | undefined): Record<string, unknown> {
  const mention = alert.page && oncallRoleId !== undefined ? `<@&${oncallRoleId}> ` : '';
  const title = alert.escalated ? `🚨🚨 **ESCALATION — ${alert.title}** 🚨🚨` : `**${alert.title}**`;
  const embed: APIEmbed = { title: alert.title, description: alert.message, color: embedColours[alert.kind], ...(alert.fields ? { fields: alert.fields } : {}) };
  return {
    content: `${icons[alert.kind]} ${mention}${title}`,
    embeds: fitEmbeds([embedInDiscordTerms(embed)]),
    allowed_mentions: mention === '' ? noMentions : { parse: [], roles: [oncallRoleId] },
  };
}

export function reportMessage(embed: APIEmbed): Record<string, unknown> {
  return { embeds: fitEmbeds([embedInDiscordTerms(embed)]), allowed_mentions: noMentions };
}

export function noticeMessage(text: string): Record<string, unknown> {
  return { content: `ℹ️ ${inDiscordTerms(text)}`, allowed_mentions: noMentions };
}
