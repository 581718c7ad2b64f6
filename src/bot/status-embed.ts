// /mail status as an embed: chasquid, the service, the queue, domains, certificates and the last job runs.

import type { APIEmbed } from 'discord.js';
import type { StatusResult } from '../ops/status.ts';
import { colours } from './render.ts';

export function statusEmbed(result: StatusResult): APIEmbed {
  const running = result.service.running;
  const service = running
    ? `running (${result.service.processes.map((process) => `pid ${process.pid} as ${process.user}`).join(', ')})`
    : '**NOT RUNNING**';
  const certificates =
    result.certificates.length === 0
      ? 'none'
      : result.certificates
          .map(
            (certificate) =>
              (certificate.notAfter === undefined
                ? `${certificate.name} (unreadable)`
                : `${certificate.name}: expires ${certificate.notAfter.slice(0, 10)}, ${certificate.daysLeft} days left`) +
              (certificate.pairProblems.length === 0
                ? ''
                : ` — **broken pair**: ${certificate.pairProblems.join('; ')}; chasquid will not start with it: /mail cert-renew`)
          )
          .join('\n');
  return {
    title: `Mail host ${result.hostname ?? result.host}`,
    color: running ? colours.ok : colours.fail,
    fields: [
      { name: 'chasquid', value: `${result.chasquid.version} — DKIM ${result.chasquid.dkimLayoutDescription}` },
      { name: 'Service', value: `${service}${result.service.systemd ? `, systemd: ${result.service.systemd}` : ''}`, inline: true },
      { name: 'Queue', value: result.queue === undefined ? 'unknown' : `${result.queue.messages} message(s)`, inline: true },
      { name: 'Domains', value: result.domains.length === 0 ? 'none' : result.domains.join(', ') },
      { name: 'Certificates', value: certificates },
      {
        name: 'Last job runs',
        value:
          result.jobs.length === 0
            ? 'none has run yet'
            : result.jobs
                .map(
                  (run) =>
                    `${run.outcome === 'ok' ? '✅' : run.outcome === 'failed' ? '❌' : '⏳'} ${run.job} <t:${Math.floor(Date.parse(run.finishedAt ?? run.startedAt) / 1000)}:R>${run.summary ? `: ${run.summary}` : ''}`
                )
                .join('\n'),
      },
    ],
    footer: { text: `${result.host} · ${result.chasquidDir}` },
  };
}
