// The scheduler's outcomes (schedule/outcome.ts) as Discord messages, rendered when the outbox delivers them, and the
// poster that sends them: an alert (its subject with the on-call mention when it is critical, louder for an escalation,
// and an embed with the whole message, coloured by severity, one field per fact), a health report (the domain's
// check embed, the host's status in the footer), a notice. Mentions are allowed explicitly and only for the on-call
// role of a critical alert; nothing else can ping anyone. Hints are rewritten into slash commands (front-hints.ts).

import type { APIEmbed, REST } from 'discord.js';
import type { ReportsResult } from '../ops/reports.ts';
import {
  pages,
  type AlertKind,
  type HealthReport,
  type JobAlert,
  type MessagePoster,
  type OutboxItem,
  type Severity,
} from '../schedule/outcome.ts';
import { checkEmbed, uncheckedEmbed } from './check-embed.ts';
import { embedInDiscordTerms, inDiscordTerms } from './front-hints.ts';
import { colours, factField, fitEmbeds } from './render.ts';
import { reportsEmbeds } from './reports-embed.ts';

const icons: Record<AlertKind, string> = {
  drift: '🔀',
  recovery: '✅',
  'renewal-failed': '❌',
  renewed: '✅',
  'cert-mismatch': '⚠️',
  'check-failed': '❌',
  'dkim-retired': '🔑',
  'dmarc-misaligned': '🛡️',
  'tls-report-failures': '🔒',
  'delivery-failed': '📭',
  'queue-stuck': '⏳',
};
const severityColours: Record<Severity, number> = {
  critical: colours.fail,
  warning: colours.warn,
  info: colours.info,
  resolved: colours.ok,
};

const noMentions = { parse: [] as string[] };

export function alertMessage(alert: JobAlert, oncallRoleId: string | undefined): Record<string, unknown> {
  const mention = pages(alert) && oncallRoleId !== undefined ? `<@&${oncallRoleId}> ` : '';
  const subject = alert.escalated ? `🚨🚨 **ESCALATION — ${alert.subject}** 🚨🚨` : `**${alert.subject}**`;
  const embed: APIEmbed = {
    title: alert.subject,
    description: alert.message,
    color: severityColours[alert.severity],
    ...(alert.facts ? { fields: alert.facts.map(factField) } : {}),
  };
  return {
    content: `${icons[alert.kind]} ${mention}${subject}`,
    embeds: fitEmbeds([embedInDiscordTerms(embed)]),
    allowed_mentions: mention === '' ? noMentions : { parse: [], roles: [oncallRoleId] },
  };
}

export function reportMessage(report: HealthReport): Record<string, unknown> {
  const embed = 'checks' in report ? checkEmbed(report.checks) : uncheckedEmbed(report.domain, report.error);
  return { embeds: fitEmbeds([embedInDiscordTerms({ ...embed, footer: { text: report.host } })]), allowed_mentions: noMentions };
}

/** The weekly digest: one embed per domain. */
export function digestMessage(digest: ReportsResult): Record<string, unknown> {
  return {
    content: '📬 **Weekly digest: DMARC and TLS reports, deliveries**',
    embeds: fitEmbeds(reportsEmbeds(digest, 'Week')),
    allowed_mentions: noMentions,
  };
}

export function noticeMessage(text: string): Record<string, unknown> {
  return { content: `ℹ️ ${inDiscordTerms(text)}`, allowed_mentions: noMentions };
}

/** The body of POST /channels/{id}/messages for one outbox item (without the nonce). */
export function outboxMessage(item: OutboxItem, oncallRoleId: string | undefined): Record<string, unknown> {
  switch (item.type) {
    case 'alert':
      return alertMessage(item.alert, oncallRoleId);
    case 'report':
      return reportMessage(item.report);
    case 'digest':
      return digestMessage(item.digest);
    case 'notice':
      return noticeMessage(item.text);
    case 'rendered':
      return item.body;
  }
}

/**
 * The scheduler's poster: each message rendered now (with the on-call role as configured now) and posted with its
 * nonce and `enforce_nonce`, so that Discord answers a repeat with the message it already has.
 */
export function discordPoster(rest: Pick<REST, 'post'>, oncallRoleId: string | undefined): MessagePoster {
  return {
    async post({ channelId, nonce, item }) {
      const body = { ...outboxMessage(item, oncallRoleId), nonce, enforce_nonce: true };
      const posted = (await rest.post(`/channels/${channelId}/messages`, { body })) as { id?: string };
      return posted.id ?? '';
    },
  };
}
