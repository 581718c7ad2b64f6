// The certificate pair installed for chasquid in certs/<name>/, read from the host and judged with the one function
// that says whether a pair matches (certificate.ts, installedPairProblems). status, cert-status, the tls check,
// cert-renew and the check before a restart all read it here. The private key is read only to compare it with the
// certificate; it is never kept, logged or returned.

import path from 'node:path';
import type { ChasquidPaths } from '../chasquid/paths.ts';
import type { MailHost } from '../host/mail-host.ts';
import { installedPairProblems, type InstalledPairFiles, type PairCheck } from './certificate.ts';

/** certs/<name>, as messages name it. */
export function pairDirLabel(name: string): string {
  return `certs/${name}`;
}

export async function readInstalledPair(host: MailHost, paths: ChasquidPaths, name: string): Promise<InstalledPairFiles> {
  const dir = paths.certificateDir(name);
  const [fullchain, privkey] = await Promise.all([
    host.files.read(path.posix.join(dir, 'fullchain.pem')),
    host.files.read(path.posix.join(dir, 'privkey.pem')),
  ]);
  return { fullchain: fullchain?.toString('utf8'), privkey: privkey?.toString('utf8') };
}

/** The installed pair's facts and what is wrong with it (missing file, key not matching, chain, `wanted` names). */
export async function inspectInstalledPair(
  host: MailHost,
  paths: ChasquidPaths,
  name: string,
  wanted: readonly string[] = []
): Promise<PairCheck & { files: { fullchain: boolean; privkey: boolean } }> {
  const files = await readInstalledPair(host, paths, name);
  return {
    ...installedPairProblems(pairDirLabel(name), files, wanted),
    files: { fullchain: files.fullchain !== undefined, privkey: files.privkey !== undefined },
  };
}
