// Where chasquid accepts TLS, as seen from outside: SMTP (25, STARTTLS), submission (587, STARTTLS) and submission
// over TLS (465, TLS from the first byte).
//
// chasquid.conf may give explicit addresses (`smtp_address: "192.0.2.1:25"`, several of each); an address without a
// host (`:25`) or a wildcard host listens everywhere and is reached at the hostname; `systemd` (the default) means
// socket activation on the standard port, also reached at the hostname.

import net from 'node:net';
import type { ChasquidSettings } from './config-file.ts';

export type TlsMode = 'starttls' | 'tls';

export interface Listener {
  service: 'smtp' | 'submission' | 'submission-tls';
  mode: TlsMode;
  /** Where to connect. */
  host: string;
  port: number;
}

const services = [
  { service: 'smtp', mode: 'starttls', port: 25, field: 'smtpAddresses' },
  { service: 'submission', mode: 'starttls', port: 587, field: 'submissionAddresses' },
  { service: 'submission-tls', mode: 'tls', port: 465, field: 'submissionOverTlsAddresses' },
] as const;

function endpoint(address: string, hostname: string, defaultPort: number): { host: string; port: number } | undefined {
  if (address === 'systemd') return { host: hostname, port: defaultPort };
  const match = /^(?:\[([^\]]*)\]|([^:]*)):([0-9]+)$/.exec(address);
  if (!match) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const wildcard = host === '' || host === '0.0.0.0' || host === '::';
  return { host: wildcard ? hostname : host, port: Number(match[3]) };
}

/** Every TLS listener of chasquid, deduplicated, in the order smtp, submission, submission-tls. */
export function tlsListeners(settings: ChasquidSettings, hostname: string): Listener[] {
  const listeners: Listener[] = [];
  for (const { service, mode, port, field } of services) {
    for (const address of settings[field]) {
      const target = endpoint(address, hostname, port);
      if (!target) continue;
      if (listeners.some((listener) => listener.host === target.host && listener.port === target.port)) continue;
      listeners.push({ service, mode, ...target });
    }
  }
  return listeners;
}

export function describeListener(listener: Listener): string {
  const host = net.isIPv6(listener.host) ? `[${listener.host}]` : listener.host;
  return `${listener.service} ${host}:${listener.port}`;
}
