// The deliverability report as a Discord embed: coloured by the worst status, the verdict in the title, which mailbox
// providers' requirements are met in the description, and one field per check — failures first, then warnings,
// then passes and skips — each with its fix as a code block, ready to paste into a DNS panel or a shell.
// Used by /mail check and by the scheduled health post.

import type { APIEmbed, APIEmbedField } from 'discord.js';
import type { CheckResult, CheckStatus } from '../checks/result.ts';
import { hostErrorHeadline, type CheckReport } from '../ops/check.ts';
import { displayDomain } from '../validation/domain.ts';
import { colours } from './render.ts';

const marks: Record<CheckStatus, string> = { fail: '❌', warn: '⚠️', pass: '✅', skip: '➖' };
const order: Record<CheckStatus, number> = { fail: 0, warn: 1, pass: 2, skip: 3 };
const statusColour: Record<CheckStatus, number> = { fail: colours.fail, warn: colours.warn, pass: colours.ok, skip: colours.info };

/** A field value: the summary, then the fix (or the hint of a skipped check) as a code block that fits in 1024 characters. */
function fieldValue(result: CheckResult): string {
  const summary = result.summary.length > 400 ? `${result.summary.slice(0, 399)}…` : result.summary;
  const extra = result.fix ?? (result.status === 'skip' ? result.hint : undefined);
  if (extra === undefined) return summary;
  const room = 1024 - summary.length - 10;
  const shown = extra.length > room ? `${extra.slice(0, room - 1)}…` : extra;
  return result.fix === undefined ? `${summary}\n${shown}` : `${summary}\n\`\`\`\n${shown.replaceAll('```', "'''")}\n\`\`\``;
}

function verdict(report: CheckReport): string {
  if (report.hostError !== undefined) return hostErrorHeadline(report.hostError);
  const count = (kind: CheckStatus | 'unknown') =>
    report.checks.filter((result) => (result.temperror ? 'unknown' : result.status) === kind).length;
  const warnings = `${count('warn')} warning${count('warn') === 1 ? '' : 's'}`;
  const unknown = count('unknown') > 0 ? `${count('unknown')} unknown, ` : '';
  if (count('fail') > 0) return `${count('fail')} failed, ${unknown}${warnings}`;
  if (unknown !== '') return `no failures, ${unknown}${warnings}`;
  if (report.worst === 'warn') return `no failures, ${warnings}`;
  return 'every check passes';
}

const checkName = (result: CheckResult) => `${result.id}${result.port === undefined ? '' : ` ${result.port}`}`;

export function checkEmbed(report: CheckReport): APIEmbed {
  const fields: APIEmbedField[] = report.checks
    .filter((result) => !result.needsHost)
    .sort((a, b) => order[a.status] - order[b.status])
    .map((result) => ({ name: `${result.temperror ? '⏳' : marks[result.status]} ${checkName(result)}`, value: fieldValue(result) }));
  // The checks that need the mail host: one field, not the same error once per check.
  const unknownForHost = report.checks.filter((result) => result.needsHost);
  if (unknownForHost.length > 0) {
    fields.push({
      name: `⏳ unknown: ${[...new Set(unknownForHost.map(checkName))].join(', ')}`,
      value:
        report.hostError?.reachable === true
          ? 'They need the mail host, whose chasquid.conf could not be read (above).'
          : 'They need the mail host, which could not be reached (above).',
    });
  }
  const hostError =
    report.hostError === undefined ? '' : `\n${report.hostError.message}${report.hostError.hint ? `\n${report.hostError.hint}` : ''}`;
  return {
    title: `${marks[report.worst]} ${displayDomain(report.domain)}: ${verdict(report)}`,
    color: statusColour[report.worst],
    description: `${report.summary}${report.hostname ? `\nMail host: ${report.hostname}` : ''}${hostError}`,
    fields,
  };
}

/** The embed for a domain whose checks could not run at all. */
export function uncheckedEmbed(domain: string, error: string): APIEmbed {
  return { title: `❌ ${displayDomain(domain)}: could not be checked`, color: colours.fail, description: error };
}
