// DNS drift as a Discord embed: one field per drifting record (name and type), its reason, and what was expected
// against what DNS answers, as a code block. Used by /mail dns-diff; the dns-drift job's alerts carry the same facts.

import type { APIEmbed } from 'discord.js';
import { acceptedNowSentence, driftAdvice, presentValues, type DriftEntry } from '../dns/drift.ts';
import type { OrphanRecord } from '../ops/orphan-records.ts';
import { displayDomain } from '../validation/domain.ts';
import { inDiscordTerms } from './front-hints.ts';
import { colours, factField } from './render.ts';

/** One embed field per record: `name TYPE`, why it drifts, expected and actual (as the dns-drift job's facts). */
export function driftFields(entries: readonly DriftEntry[]): NonNullable<APIEmbed['fields']> {
  return entries.map((entry) =>
    factField({
      label: `${entry.name} ${entry.type}`,
      text: entry.reason,
      detail: `expected: ${presentValues(entry.type, entry.expected)}\nactual:   ${presentValues(entry.type, entry.actual)}`,
    })
  );
}

export function driftEmbed(input: {
  domain: string;
  drift: readonly DriftEntry[];
  records: number;
  accepted: { at: string; by: string };
  acceptedNow: boolean;
  orphans?: readonly OrphanRecord[];
}): APIEmbed {
  const orphans =
    (input.orphans ?? []).length === 0
      ? ''
      : `\nOrphan records mailops made (not drift): ${(input.orphans ?? []).map((orphan) => orphan.name).join(', ')} — remove them with \`/mail dkim-retire domain:${input.domain} prune:true\`.`;
  const accepted =
    (input.acceptedNow
      ? acceptedNowSentence(input.drift)
      : `Accepted state recorded ${input.accepted.at.slice(0, 16).replace('T', ' ')} UTC by ${input.accepted.by}.`) + orphans;
  if (input.drift.length === 0) {
    return {
      title: `✅ ${displayDomain(input.domain)}: no DNS drift`,
      color: colours.ok,
      description: `${input.records} record sets match what is expected.\n${accepted}`,
    };
  }
  return {
    title: `❌ ${displayDomain(input.domain)}: ${input.drift.length} record${input.drift.length === 1 ? '' : 's'} drifted`,
    color: colours.fail,
    description: `${accepted}\n${inDiscordTerms(driftAdvice(input.domain, input.drift))}`,
    fields: driftFields(input.drift),
  };
}
