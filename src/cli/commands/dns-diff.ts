// dns-diff <domain> [--accept]: the records a domain depends on, expected against what DNS answers now (exit 1 with
// drift); --accept records the current answers as the accepted state.

import { acceptedNowSentence, driftAdvice, presentValues } from '../../dns/drift.ts';
import type { DnsDiffResult } from '../../ops/dns-diff.ts';
import { describeOrphan } from '../../ops/orphan-records.ts';
import { operationContext } from '../../ops/context.ts';
import type { CliCommand } from '../command.ts';
import { displayDomain } from '../../validation/domain.ts';

export function renderDnsDiff(result: DnsDiffResult): string {
  const lines = [`DNS of ${displayDomain(result.domain)}, mail host ${result.hostname}; accepted state recorded ${result.accepted.at} by ${result.accepted.by}`];
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

export const dnsDiffCommand: CliCommand = {
  name: 'dns-diff',
  summary: 'expected DNS records against what DNS answers now',
  arguments: ['<domain>'],
  options: [{ flags: '--accept', description: 'record the current answers as the accepted state' }],
  async run(context, [domain = ''], options) {
    // Loaded when used: the operation brings the DNS checks and, through the orphan records, the ACME client.
    const { dnsDiff } = await import('../../ops/dns-diff.ts');
    const result = await dnsDiff(operationContext(context.runtime, context.actor), { domain, accept: options.accept === true });
    const { domain: name, drift, ...rest } = result;
    return { json: { domain: name, drift, ...rest }, text: renderDnsDiff(result), exitCode: drift.length > 0 ? 1 : 0 };
  },
};
