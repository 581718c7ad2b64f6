// The DKIM keys chasquid signs a domain's mail with, as public keys — what the `dkim` check compares with DNS.
//
// The files are found by dkim-files.ts (layout by chasquid version); for the 1.11 hook layout, hookProblems says what
// keeps the hook from signing. Private keys are read only to derive their public half here; they are not kept.

import { createPrivateKey } from 'node:crypto';
import type { MailHost } from '../host/mail-host.ts';
import { hookProblems, readDkimFiles } from './dkim-files.ts';
import { dkimPublicKey, type DkimPublicKey } from './dkim-key.ts';
import type { ChasquidPaths } from './paths.ts';
import type { DkimLayout } from './version.ts';

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

export async function dkimSetup(host: MailHost, paths: ChasquidPaths, domain: string, layout: DkimLayout): Promise<DkimSetup> {
  const [files, problems] = await Promise.all([
    readDkimFiles(host, paths, domain, layout),
    layout === 'hook' ? hookProblems(host, paths) : Promise.resolve([]),
  ]);
  const keys: DkimKeyOnHost[] = files.keys.map((key) => {
    try {
      return { selector: key.selector, file: key.file, publicKey: dkimPublicKey(createPrivateKey(key.privatePem)) };
    } catch (error) {
      return {
        selector: key.selector,
        file: key.file,
        problem: `${key.file} cannot be read as a private key: ${(error as Error).message.split('\n')[0]}`,
      };
    }
  });
  // The hook layout names a selector whose key file is missing: chasquid signs nothing.
  if (layout === 'hook' && files.selector !== undefined && keys.length === 0) {
    keys.push({
      selector: files.selector,
      file: paths.certificateDir(domain),
      problem: `domains/${domain}/dkim_selector names ${files.selector}, but certs/${domain}/dkim_privkey.pem is missing`,
    });
  }
  return { layout, keys, hookProblems: problems };
}
