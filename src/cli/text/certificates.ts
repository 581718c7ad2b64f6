// Certificates in a terminal: cert-status and cert-renew.

import type { CertRenewResult } from '../../ops/cert-renew.ts';
import type { CertStatusResult } from '../../ops/cert-status.ts';
import { rows } from '../format.ts';

export function renderCertificates(result: CertStatusResult): string {
  const installed = result.certificates.length === 0 ? (['Installed', 'none'] as [string, string]) : undefined;
  const certificateRows: Array<[string, string]> = installed
    ? [installed]
    : result.certificates.map((certificate) => [
        certificate.name,
        certificate.notAfter === undefined
          ? `unreadable — ${certificate.renewReason}`
          : `for ${certificate.names.join(', ')}; issued by ${certificate.issuer}; expires ${certificate.notAfter.slice(0, 10)} (${certificate.daysLeft} days); ` +
            `${certificate.renewDue ? `RENEWAL DUE: ${certificate.renewReason}` : 'renewal not due'}; ` +
            (certificate.renewalWindow === undefined
              ? ''
              : `CA's renewal window ${certificate.renewalWindow.start.slice(0, 16)}Z–${certificate.renewalWindow.end.slice(0, 16)}Z; `) +
            (certificate.profile === undefined ? '' : `profile ${certificate.profile}; `) +
            `served on ${certificate.served.length === 0 ? 'no port' : `ports ${certificate.served.join(', ')}`}`,
      ]);
  const listenerRows: Array<[string, string]> = result.listeners.map((listener) => [
    `${listener.service} ${listener.host}:${listener.port}`,
    listener.served === undefined
      ? `ERROR: ${listener.error}`
      : `${listener.served.installed === undefined ? 'NOT an installed certificate: ' : `the installed ${listener.served.installed}: `}for ${listener.served.names.join(', ')}, issued by ${listener.served.issuer}, expires ${listener.served.notAfter.slice(0, 10)}`,
  ]);
  return `Installed certificates\n${rows(certificateRows)}\n\nServed for ${result.hostname}\n${rows(listenerRows)}`;
}

export function renderRenewal(result: CertRenewResult): string {
  if (!result.renewed)
    return `Not renewed: the certificate for ${result.name} is ${result.reason.replace(/^not due: /, 'not due — ')} (expires ${result.notAfter ?? 'unknown'}).`;
  return rows([
    ['Renewed', result.name],
    ['Why', result.reason],
    ['Names', result.names.join(', ')],
    ['Issuer', result.issuer ?? 'unknown'],
    ['Valid until', result.notAfter ?? 'unknown'],
    ...(result.profile === undefined ? [] : [['Profile', result.profile] as [string, string]]),
    ...(result.replaced === undefined ? [] : [['Replaces', `${result.replaced} (the CA linked the two)`] as [string, string]]),
    ['Served on', result.served.length === 0 ? 'no listener' : `ports ${result.served.join(', ')}`],
  ]);
}
