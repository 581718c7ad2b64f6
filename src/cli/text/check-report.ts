// The check report in a terminal: one line per check, its fix under it.

import type { CheckResult, CheckStatus } from '../../checks/result.ts';
import type { CheckReport } from '../../ops/check.ts';
import { displayDomain } from '../../validation/domain.ts';

const labels: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

/** Wraps text to `width` columns, continuing lines with `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

/** How a check appears in the report: `tls 25` for a port, else its id. */
const checkName = (result: CheckResult) => (result.id === 'tls' && result.port !== undefined ? `tls ${result.port}` : result.id);

/**
 * The report as a table: status, check, summary, and the fix under it. When the mail host could not be reached, its
 * error comes first, once, and the checks that need the host are one line after the table instead of one error each.
 */
export function renderCheckReport(report: CheckReport, columns = 120): string {
  const shown = report.checks.filter((result) => !result.needsHost);
  const unknownForHost = report.checks.filter((result) => result.needsHost);
  const names = shown.map(checkName);
  const nameWidth = Math.max(0, ...names.map((name) => name.length));
  const indent = ' '.repeat(4 + 2 + nameWidth + 2);
  const width = Math.max(40, columns - indent.length);
  const lines = [`Deliverability of ${displayDomain(report.domain)}${report.hostname ? `, mail host ${report.hostname}` : ''}`, ''];
  if (report.hostError !== undefined) {
    lines.push(wrap(report.hostError.message, columns, ''));
    if (report.hostError.hint) lines.push(wrap(report.hostError.hint, columns, ''));
    lines.push(`Only the checks that need nothing but DNS ran${shown.length === 0 ? ', and there were none' : ''}:`, '');
  }
  shown.forEach((result, index) => {
    // A check that could not look something up says so (TEMP), not that the domain failed it.
    lines.push(
      `${result.temperror ? 'TEMP' : labels[result.status]}  ${(names[index] ?? '').padEnd(nameWidth)}  ${wrap(result.summary, width, indent)}`
    );
    if (result.fix) lines.push(`${indent}${wrap(`fix: ${result.fix}`, width, indent)}`);
    else if (result.hint) lines.push(`${indent}${wrap(`hint: ${result.hint}`, width, indent)}`);
  });
  if (unknownForHost.length > 0) {
    lines.push(
      '',
      wrap(`Unknown, because they need the mail host: ${[...new Set(unknownForHost.map(checkName))].join(', ')}.`, columns, '')
    );
  }
  lines.push('', report.summary, `${report.ok ? 'OK' : 'FAILED'}: ${reportCounts(report.checks)}`);
  return lines.join('\n');
}

/** `1 fail, 9 unknown, 1 pass`: a check that could not be completed counts as unknown, not as a failure. */
export function reportCounts(checks: readonly CheckResult[]): string {
  const count = (kind: CheckStatus | 'unknown') =>
    checks.filter((result) => (result.temperror ? 'unknown' : result.status) === kind).length;
  return (['fail', 'unknown', 'warn', 'pass', 'skip'] as const)
    .map((kind) => [kind, count(kind)] as const)
    .filter(([, number]) => number > 0)
    .map(([kind, number]) => `${number} ${kind}`)
    .join(', ');
}
