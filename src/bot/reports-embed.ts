// `/mail reports` and the weekly digest as embeds: one per domain — DMARC pass rate and reporters, the sending
// sources (this host or not), TLS-RPT sessions, deliveries. Everything receivers and remote servers wrote is shown as
// inline code (inlineCode: one line, no markdown, no mention).

import type { APIEmbed } from 'discord.js';
import { percent } from '../cli/text/reports.ts';
import type { DomainReports, ReportsResult } from '../ops/reports.ts';
import { colours, discordTime, inlineCode } from './render.ts';

function colour(entry: DomainReports, minimum: number): number {
  if (entry.delivery.failedPermanent > 0 || entry.tlsrpt.failure > 0) return colours.warn;
  if (entry.dmarc.passRate !== null && entry.dmarc.passRate < minimum) return colours.warn;
  return entry.dmarc.messages === 0 ? colours.info : colours.ok;
}

export function domainReportsEmbed(entry: DomainReports, minimum: number, title = `Reports for ${entry.domain}`): APIEmbed {
  const { dmarc, tlsrpt, delivery } = entry;
  const sources = dmarc.sources
    .slice(0, 10)
    .map(
      (source) =>
        `${source.ours ? '🏠' : '❔'} ${inlineCode(source.ip, 40)} ${source.ptr === undefined ? '' : inlineCode(source.ptr, 60)} — ${source.messages} msg, DKIM ${source.dkimAligned}, SPF ${source.spfAligned}`
    );
  return {
    title,
    color: colour(entry, minimum),
    description: `Since ${discordTime(entry.since)}`,
    fields: [
      {
        name: 'DMARC',
        value:
          `${dmarc.messages} message(s) in ${dmarc.reports} report(s), pass rate **${percent(dmarc.passRate)}**\n` +
          (dmarc.reporters.map((reporter) => `${inlineCode(reporter.org, 60)} ${reporter.messages}`).join(', ') || 'No reports yet.'),
      },
      ...(sources.length > 0 ? [{ name: 'Sending sources (🏠 this host, ❔ others)', value: sources.join('\n') }] : []),
      {
        name: 'TLS-RPT',
        value:
          `${tlsrpt.success} successful, ${tlsrpt.failure} failed session(s)` +
          (tlsrpt.failures.length > 0
            ? `\n${tlsrpt.failures.map((failure) => `${inlineCode(failure.type, 60)} ${failure.count}`).join(', ')}`
            : ''),
      },
      {
        name: 'Deliveries',
        value:
          `${delivery.sent} sent, ${delivery.failedTemporary} failed for now, ${delivery.failedPermanent} failed for good` +
          delivery.permanent.map((failure) => `\n${inlineCode(failure.recipient, 80)}: ${inlineCode(failure.reply, 300)}`).join(''),
      },
    ],
  };
}

export function reportsEmbeds(result: ReportsResult, heading?: string): APIEmbed[] {
  const embeds = result.domains.map((entry) =>
    domainReportsEmbed(entry, result.passRateMin, heading === undefined ? undefined : `${heading}: ${entry.domain}`)
  );
  if (result.stuck > 0 && embeds[0] !== undefined) embeds[0].footer = { text: `${result.stuck} message(s) stuck in chasquid's queue` };
  return embeds;
}
