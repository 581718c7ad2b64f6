import type { CheckReport } from '../../ops/check.ts';
import { operationContext } from '../../ops/context.ts';
import type { CheckStatus } from '../../checks/result.ts';
import type { CliCommand } from '../command.ts';

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

/** The report as a table: status, check, summary, and the fix under it. */
export function renderCheckReport(report: CheckReport, columns = 120): string {
  const names = report.checks.map((result) => result.id === 'tls' && result.port !== undefined ? `tls ${result.port}` : result.id);
  const nameWidth = Math.max(...names.map((name) => name.length));
  const indent = ' '.repeat(4 + 2 + nameWidth + 2);
  const width = Math.max(40, columns - indent.length);
  const lines = [`Deliverability of ${report.domain}${report.hostname ? ` (mail host ${report.hostname})` : ''}`, ''];
  report.checks.forEach((result, index) => {
    // A check that could not look something up says so (TEMP), not that the domain failed it.
    lines.push(`${result.temperror ? 'TEMP' : labels[result.status]}  ${(names[index] ?? '').padEnd(nameWidth)}  ${wrap(result.summary, width, indent)}`);
    if (result.fix) lines.push(`${indent}${wrap(`fix: ${result.fix}`, width, indent)}`);
    else if (result.hint) lines.push(`${indent}${wrap(`hint: ${result.hint}`, width, indent)}`);
  });
  const counts = (['fail', 'warn', 'pass', 'skip'] as const).map((status) => [status, report.checks.filter((result) => result.status === status).length] as const)
    .filter(([, count]) => count > 0).map(([status, count]) => `${count} ${status}`);
  lines.push('', report.summary, `${report.ok ? 'OK' : 'FAILED'}: ${counts.join(', ')}`);
  return lines.join('\n');
}

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'the deliverability report for a domain',
  arguments: ['<domain>'],
  options: [],
  async run({ runtime, actor }, args) {
    // Loaded when used: the checks bring mailauth and its dependencies, which every other command would pay for at start-up.
    const { check } = await import('../../ops/check.ts');
    const report = await check({ host: runtime.host(), config: runtime.config, domain: args[0] ?? '', now: runtime.now(), operation: operationContext(runtime, actor) });
    return { json: report, text: renderCheckReport(report, process.stdout.columns ?? 120), exitCode: report.ok ? 0 : 1 };
  },
};
