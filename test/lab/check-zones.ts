// Zones for the deliverability-check scenarios: one right mail domain and domains broken in one way each.

import { generateKeyPairSync } from 'node:crypto';
import { dkimPublicKey, dkimRecordValue } from '../../src/chasquid/dkim-key.ts';
import { presentTxtValue } from '../../src/dns/txt.ts';

/** The SOA and NS a zone needs; the lab adds $ORIGIN and $TTL. */
export function zone(name: string, records: string[]): string {
  return [`@ SOA ns1.${name}. hostmaster.${name}. 1 3600 600 86400 60`, `@ NS ns1.${name}.`, 'ns1 A 127.0.0.1', ...records].join('\n');
}

export const txt = (owner: string, value: string) => `${owner} TXT ${presentTxtValue(value)}`;

export interface MailZoneOptions {
  mx?: string[];
  spf?: string[];
  dmarc?: string[];
  extra?: string[];
}

/** A mail domain served by `hostname` (the MX, SPF `mx -all`, DMARC p=quarantine), with parts replaced. */
export function mailZone(name: string, hostname: string, options: MailZoneOptions = {}): string {
  const mx = options.mx ?? [`10 ${hostname}.`];
  const spf = options.spf ?? ['v=spf1 mx -all'];
  const dmarc = options.dmarc ?? [`v=DMARC1; p=quarantine; rua=mailto:dmarc@${name}`];
  return zone(name, [
    ...mx.map((value) => `@ MX ${value}`),
    ...spf.map((value) => txt('@', value)),
    ...dmarc.map((value) => txt('_dmarc', value)),
    ...(options.extra ?? []),
  ]);
}

export interface DkimKey {
  privateKeyPem: string;
  /** `v=DKIM1; k=…; p=…` */
  record: string;
}

export function dkimKey(type: 'rsa' | 'ed25519' = 'rsa', bits = 2048): DkimKey {
  const { privateKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: bits }) : generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: dkimRecordValue(dkimPublicKey(privateKey)),
  };
}
