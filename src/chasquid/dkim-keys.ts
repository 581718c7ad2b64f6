// The DKIM keys chasquid signs a domain's mail with, as public keys — what the `dkim` check compares with DNS.
//
// The files are found by dkim-files.ts (layout by chasquid version); for the 1.11 hook layout, hookProblems says what
// keeps the hook from signing. Private keys are read only to derive their public half here; they are not kept.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { MailHost } from '../host/mail-host.ts';
import { hookProblems, readDkimFiles } from './dkim-files.ts';
import type { ChasquidPaths } from './paths.ts';
import type { DkimLayout } from './version.ts';

export interface DkimPublicKey {
  algorithm: 'rsa' | 'ed25519' | 'other';
  /** RSA modulus length. */
  bits?: number;
  /** The `p=` value of the DNS record (RFC 6376 for RSA: SubjectPublicKeyInfo; RFC 8463 for ed25519: the raw key). */
  p: string;
}

export interface DkimKeyOnHost {
  selector: string;
  /** The key file on the host. */
  file: string;
  publicKey?: DkimPublicKey;
  /** Why the key could not be used. */
  problem?: string;
}

export interface DkimSetup {
  layout: DkimLayout;
  keys: DkimKeyOnHost[];
  /** Hook layout: what keeps the post-data hook from signing, each with its fix (empty: it can sign). */
  hookProblems: string[];
}

/** The DNS form of a public key. */
export function dkimPublicKey(key: KeyObject): DkimPublicKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  if (publicKey.asymmetricKeyType === 'rsa') {
    return { algorithm: 'rsa', bits: publicKey.asymmetricKeyDetails?.modulusLength ?? 0, p: spki.toString('base64') };
  }
  if (publicKey.asymmetricKeyType === 'ed25519') return { algorithm: 'ed25519', p: spki.subarray(spki.length - 32).toString('base64') };
  return { algorithm: 'other', p: spki.toString('base64') };
}

export async function dkimSetup(host: MailHost, paths: ChasquidPaths, domain: string, layout: DkimLayout): Promise<DkimSetup> {
  const [files, problems] = await Promise.all([
    readDkimFiles(host, paths, domain, layout),
    layout === 'hook' ? hookProblems(host, paths) : Promise.resolve([]),
  ]);
  const keys: DkimKeyOnHost[] = files.keys.map((key) => {
    try {
      return { selector: key.selector, file: key.file, publicKey: dkimPublicKey(createPrivateKey(key.privatePem)) };
    } catch (error) {
      return { selector: key.selector, file: key.file, problem: `${key.file} cannot be read as a private key: ${(error as Error).message.split('\n')[0]}` };
    }
  });
  // The hook layout names a selector whose key file is missing: chasquid signs nothing.
  if (layout === 'hook' && files.selector !== undefined && keys.length === 0) {
    keys.push({ selector: files.selector, file: paths.certificateDir(domain), problem: `domains/${domain}/dkim_selector names ${files.selector}, but certs/${domain}/dkim_privkey.pem is missing` });
  }
  return { layout, keys, hookProblems: problems };
}
