// mailops status in a terminal.

import type { StatusResult } from '../../ops/status.ts';
import { rows } from '../format.ts';

export function renderStatus(result: StatusResult): string {
  const service = result.service.running
    ? `running (${result.service.processes.map((process) => `pid ${process.pid} as ${process.user}`).join(', ')})`
    : 'NOT RUNNING';
  const certificates =
    result.certificates.length === 0
      ? 'none'
      : result.certificates
          .map(
            (certificate) =>
              (certificate.notAfter === undefined
                ? `${certificate.name} (unreadable)`
                : `${certificate.name} (expires ${certificate.notAfter.slice(0, 10)}, ${certificate.daysLeft} days left)`) +
              (certificate.pairProblems.length === 0
                ? ''
                : ` — BROKEN PAIR: ${certificate.pairProblems.join('; ')}; chasquid will not start with it: mailops cert-renew`)
          )
          .join('\n  ');
  return rows([
    ['Mail host', result.host],
    ['chasquid', `${result.chasquid.version} — DKIM ${result.chasquid.dkimLayoutDescription}`],
    ['Service', `${service}${result.service.systemd ? `, systemd: ${result.service.systemd}` : ''}`],
    ['Hostname', result.hostname ?? 'unknown'],
    ['Config dir', result.chasquidDir],
    ['Domains', result.domains.length === 0 ? 'none' : result.domains.join(', ')],
    ['Certificates', certificates],
    ['Queue', result.queue === undefined ? 'unknown' : `${result.queue.messages} message(s)`],
    [
      'Jobs',
      result.jobs.length === 0
        ? 'none has run yet'
        : result.jobs
            .map(
              (run) =>
                `${run.job}: ${run.outcome} at ${(run.finishedAt ?? run.startedAt).slice(0, 16).replace('T', ' ')}${run.summary ? ` — ${run.summary}` : ''}`
            )
            .join('\n  '),
    ],
  ]);
}
