// dns-diff in a terminal: each drifting record with what was expected and what DNS answers.

import { acceptedNowSentence, driftAdvice, presentValues } from '../../dns/drift.ts';
import type { DnsDiffResult } from '../../ops/dns-diff.ts';
import { describeOrphan } from '../../ops/orphan-records.ts';
import { displayDomain } from '../../validation/domain.ts';

export function renderDnsDiff(result: DnsDiffResult): string {
  const lines = [
    `DNS of ${displayDomain(result.domain)}, mail host ${result.hostname}; accepted state recorded ${result.accepted.at} by ${result.accepted.by}`,
  ];
  if (result.acceptedNow) lines.push(acceptedNowSentence(result.drift));
  lines.push('');
  for (const entry of result.drift) {
    lines.push(`DRIFT  ${entry.name} ${entry.type}: ${entry.reason}`);
    lines.push(`       expected: ${presentValues(entry.type, entry.expected)}`);
    lines.push(`       actual:   ${presentValues(entry.type, entry.actual)}`);
  }
  for (const entry of result.unknown) lines.push(`UNKNOWN  ${entry.name} ${entry.type}: ${entry.error}`);
  for (const orphan of result.orphans) lines.push(`ORPHAN  ${describeOrphan(orphan)}`);
  if (result.orphans.length > 0) lines.push(`        (not drift) remove them: mailops dkim-retire ${result.domain} --prune --yes`);
  if (result.drift.length === 0) lines.push(`No drift: ${result.records - result.unknown.length} record sets match what is expected.`);
  else lines.push('', driftAdvice(result.domain, result.drift));
  return lines.join('\n');
}
