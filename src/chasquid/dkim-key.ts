// DKIM keys: making them, and the DNS record that publishes their public half.
//
// RSA keys carry the public key as base64 of its SubjectPublicKeyInfo (`k=rsa; p=MIIB…`, RFC 6376 §3.6.1); Ed25519
// keys carry the raw 32 bytes (`k=ed25519`, RFC 8463 §4.2). chasquid 1.14+ reads PKCS#8 PEM
// (`domains/D/dkim:SELECTOR.pem`); the 1.11 hook hands the file to dkimpy's dkimsign, which reads RSA keys in the
// traditional PKCS#1 form — and signs RSA only, so Ed25519 is offered for the built-in layout alone.
// Selectors come from the date (`20260315`), with a letter added when that one is taken (`20260315b`).

import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { DkimLayout } from './version.ts';

export const dkimAlgorithms = ['rsa2048', 'rsa3072', 'ed25519'] as const;
export type DkimAlgorithm = (typeof dkimAlgorithms)[number];

export interface DkimKey {
  algorithm: DkimAlgorithm;
  /** The private key as the layout stores it (PEM). A secret. */
  privatePem: string;
  /** The TXT value to publish at `<selector>._domainkey.<domain>`. */
  record: string;
}

/** The TXT value for the public half of a private key in PEM (PKCS#1 or PKCS#8, RSA or Ed25519). */
export function dkimRecordFor(privatePem: string): string {
  const publicKey = createPublicKey(createPrivateKey(privatePem));
  const der = publicKey.export({ type: 'spki', format: 'der' });
  if (publicKey.asymmetricKeyType === 'ed25519') return `v=DKIM1; k=ed25519; p=${der.subarray(der.length - 32).toString('base64')}`;
  if (publicKey.asymmetricKeyType === 'rsa') return `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
  throw new Error(`A ${publicKey.asymmetricKeyType ?? 'unknown'} key cannot be a DKIM key.`);
}

export function generateDkimKey(algorithm: DkimAlgorithm, layout: DkimLayout): DkimKey {
  const { privateKey } = algorithm === 'ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('rsa', { modulusLength: algorithm === 'rsa3072' ? 3072 : 2048 });
  const privatePem = layout === 'hook' && algorithm !== 'ed25519'
    ? privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
    : privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { algorithm, privatePem, record: dkimRecordFor(privatePem) };
}

/** The selector for a key made on `date`: YYYYMMDD, then YYYYMMDDb, …c, … while taken. */
export function selectorFor(date: Date, taken: ReadonlySet<string>): string {
  const base = date.toISOString().slice(0, 10).replaceAll('-', '');
  if (!taken.has(base)) return base;
  for (let code = 'b'.charCodeAt(0); code <= 'z'.charCodeAt(0); code += 1) {
    const candidate = `${base}${String.fromCharCode(code)}`;
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error(`Every selector of ${base} is taken; try again tomorrow.`);
}

/** The DNS name of a selector's record. */
export function dkimRecordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}
