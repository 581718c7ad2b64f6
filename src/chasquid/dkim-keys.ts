// The DKIM keys chasquid signs with for a domain, read from the host, as public keys.
//
// Where they are depends on the chasquid version (version.ts):
//   hook (up to 1.13): one selector, named in domains/<domain>/dkim_selector, key in certs/<domain>/dkim_privkey.pem;
//                      the post-data hook signs with `dkimsign` when it is on the daemon's PATH.
//   builtin (1.14+):   every domains/<domain>/dkim:<selector>.pem signs (loaded at start-up).
// Private keys are read only to derive their public half here; they are never kept, logged or returned.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import type { MailHost } from '../host/mail-host.ts';
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
  /** Why the key could not be read. */
  problem?: string;
}

export interface DkimSetup {
  layout: DkimLayout;
  keys: DkimKeyOnHost[];
  /** hook layout: whether `dkimsign` is on the PATH of the host (without it the hook signs nothing). */
  signerPresent?: boolean;
}

const selectorPattern = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*$/;

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

async function readKey(host: MailHost, selector: string, file: string): Promise<DkimKeyOnHost> {
  try {
    const pem = await host.files.read(file);
    if (pem === undefined) return { selector, file, problem: `${file} does not exist` };
    return { selector, file, publicKey: dkimPublicKey(createPrivateKey(pem)) };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { selector, file, problem: `${file} cannot be read as a private key: ${reason}` };
  }
}

export async function dkimSetup(host: MailHost, paths: ChasquidPaths, domain: string, layout: DkimLayout): Promise<DkimSetup> {
  if (layout === 'builtin') {
    const entries = await host.files.list(paths.domainDir(domain)) ?? [];
    const keys = entries.flatMap((entry) => {
      const match = /^dkim:(.+)\.pem$/.exec(entry.name);
      return match?.[1] !== undefined && entry.type !== 'directory' && selectorPattern.test(match[1]) ? [{ selector: match[1], file: path.posix.join(paths.domainDir(domain), entry.name) }] : [];
    });
    return { layout, keys: await Promise.all(keys.map((key) => readKey(host, key.selector, key.file))) };
  }
  const [selectorFile, signer] = await Promise.all([
    host.files.read(path.posix.join(paths.domainDir(domain), 'dkim_selector')),
    host.verbs.call('which', ['dkimsign']),
  ]);
  const signerPresent = signer.code === 0;
  if (selectorFile === undefined) return { layout, keys: [], signerPresent };
  const selector = selectorFile.toString('utf8').trim();
  const file = path.posix.join(paths.certificateDir(domain), 'dkim_privkey.pem');
  if (!selectorPattern.test(selector)) {
    return { layout, keys: [{ selector, file, problem: `domains/${domain}/dkim_selector does not hold a valid selector` }], signerPresent };
  }
  return { layout, keys: [await readKey(host, selector, file)], signerPresent };
}
