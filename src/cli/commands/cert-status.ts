import type { CertStatusResult } from '../../ops/cert-status.ts';
import { operationContext } from '../../ops/context.ts';
import type { CliCommand } from '../command.ts';
import { rows } from '../format.ts';

function render(result: CertStatusResult): string {
  const installed = result.certificates.length === 0 ? ['Installed', 'none'] as [string, string] : undefined;
  const certificateRows: Array<[string, string]> = installed ? [installed] : result.certificates.map((certificate) => [
    certificate.name,
    certificate.notAfter === undefined ? `unreadable — ${certificate.renewReason}`
      : `for ${certificate.names.join(', ')}; issued by ${certificate.issuer}; expires ${certificate.notAfter.slice(0, 10)} (${certificate.daysLeft} days); ` +
        `${certificate.renewDue ? `RENEWAL DUE: ${certificate.renewReason}` : 'renewal not due'}; served on ${certificate.served.length === 0 ? 'no port' : `ports ${certificate.served.join(', ')}`}`,
  ]);
  const listenerRows: Array<[string, string]> = result.listeners.map((listener) => [
    `${listener.service} ${listener.host}:${listener.port}`,
    listener.served === undefined ? `ERROR: ${listener.error}`
      : `${listener.served.installed === undefined ? 'NOT an installed certificate: ' : `the installed ${listener.served.installed}: `}for ${listener.served.names.join(', ')}, issued by ${listener.served.issuer}, expires ${listener.served.notAfter.slice(0, 10)}`,
  ]);
  return `Installed certificates\n${rows(certificateRows)}\n\nServed for ${result.hostname}\n${rows(listenerRows)}`;
}

export const certStatusCommand: CliCommand = {
  name: 'cert-status',
  summary: 'certificates on the host and the ones served on 25/465/587',
  arguments: [],
  options: [],
  async run(context) {
    const { certStatus } = await import('../../ops/cert-status.ts');
    const result = await certStatus(operationContext(context.runtime, context.actor));
    return { json: result, text: render(result) };
  },
};
