// DKIM keys: making them, and the DNS record that publishes their public half.
//
// RSA keys carry the public key as base64 of its SubjectPublicKeyInfo (`k=rsa; p=MIIB…`, RFC 6376 §3.6.1); Ed25519
// keys carry the raw 32 bytes (`k=ed25519`, RFC 8463 §4.2). chasquid 1.14+ reads PKCS#8 PEM
// (`domains/D/dkim:SELECTOR.pem`); the 1.11 hook hands the file to dkimpy's dkimsign, which reads RSA keys in the
// traditional PKCS#1 form — and signs RSA only, so Ed25519 is offered for the built-in layout alone.
// Selectors come from the date (`20260315`), with a letter added when that one is taken (`20260315b`).

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
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

export interface DkimPublicKey {
  algorithm: 'rsa' | 'ed25519' | 'other';
  /** RSA modulus length. */
  bits?: number;
  /** The `p=` value of the DNS record. */
  p: string;
}

/** The DNS form of a key (the public half of a private one). */
export function dkimPublicKey(key: KeyObject): DkimPublicKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  if (publicKey.asymmetricKeyType === 'rsa') {
    return { algorithm: 'rsa', bits: publicKey.asymmetricKeyDetails?.modulusLength ?? 0, p: spki.toString('base64') };
  }
  if (publicKey.asymmetricKeyType === 'ed25519') return { algorithm: 'ed25519', p: spki.subarray(spki.length - 32).toString('base64') };
  return { algorithm: 'other', p: spki.toString('base64') };
}

/** The TXT value that publishes a public key. */
export function dkimRecordValue(key: DkimPublicKey): string {
  return `v=DKIM1; k=${key.algorithm === 'ed25519' ? 'ed25519' : 'rsa'}; p=${key.p}`;
}

/** The TXT value for the public half of a private key in PEM (PKCS#1 or PKCS#8, RSA or Ed25519). */
export function dkimRecordFor(privatePem: string): string {
  const key = dkimPublicKey(createPrivateKey(privatePem));
  if (key.algorithm === 'other') throw new Error('Only RSA and Ed25519 keys can be DKIM keys.');
  return dkimRecordValue(key);
}

export function generateDkimKey(algorithm: DkimAlgorithm, layout: DkimLayout): DkimKey {
  const { privateKey } =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: algorithm === 'rsa3072' ? 3072 : 2048 });
  const privatePem =
    layout === 'hook' && algorithm !== 'ed25519'
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
