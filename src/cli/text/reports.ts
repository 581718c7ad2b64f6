// `mailops reports` as text: per domain, the DMARC summary (pass rate, reporters, sending sources), TLS-RPT sessions
// and delivery results of the period. What receivers wrote is shown as data (printable): never as terminal controls.

import type { DomainReports, ReportsResult } from '../../ops/reports.ts';
import { printable } from '../../validation/domain.ts';

export const percent = (rate: number | null): string => (rate === null ? 'no messages reported' : `${Math.round(rate * 1000) / 10}%`);

function domainText(entry: DomainReports): string[] {
  const { dmarc, tlsrpt, delivery } = entry;
  const lines = [entry.domain];
  lines.push(
    `  DMARC: ${dmarc.messages} message(s) in ${dmarc.reports} report(s), pass rate ${percent(dmarc.passRate)}` +
      (dmarc.reporters.length > 0
        ? ` — ${dmarc.reporters.map((reporter) => `${printable(reporter.org, 60)} ${reporter.messages}`).join(', ')}`
        : '')
  );
  for (const source of dmarc.sources) {
    const who = source.ours ? 'this host' : 'not this host';
    lines.push(
      `    ${source.ip.padEnd(39)} ${printable(source.ptr ?? '(no reverse name)', 60)}  ${who}: ${source.messages} message(s), DKIM aligned ${source.dkimAligned}, SPF aligned ${source.spfAligned}`
    );
  }
  lines.push(
    `  TLS-RPT: ${tlsrpt.success} successful, ${tlsrpt.failure} failed session(s) in ${tlsrpt.reports} report(s)` +
      (tlsrpt.failures.length > 0
        ? ` — ${tlsrpt.failures.map((failure) => `${printable(failure.type, 60)} ${failure.count}`).join(', ')}`
        : '')
  );
  lines.push(
    `  Deliveries: ${delivery.sent} sent, ${delivery.failedTemporary} failed for now, ${delivery.failedPermanent} failed for good`
  );
  for (const failure of delivery.permanent)
    lines.push(`    ${failure.at}  ${printable(failure.recipient, 80)}: ${printable(failure.reply, 300)}`);
  return lines;
}

export function reportsText(result: ReportsResult): string {
  const lines = [`Since ${result.since}:`];
  for (const entry of result.domains) lines.push(...domainText(entry));
  if (result.stuck > 0) lines.push(`${result.stuck} message(s) stuck in chasquid's queue.`);
  return lines.join('\n');
}
