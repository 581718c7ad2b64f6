// The certificate chasquid needs: its hostname (from chasquid.conf, or the host's name) and CERT_EXTRA_NAMES. Kept
// apart from cert-renew.ts, which brings the ACME client, because the orphan-record listing and cert-status need it too.

import { parseChasquidConf } from '../chasquid/config-file.ts';
import { chasquidHostname } from '../chasquid/hostname.ts';
import { ChasquidPaths } from '../chasquid/paths.ts';
import { failedError } from '../errors.ts';
import { normalizeDomain } from '../validation/domain.ts';
import type { ChangeContext } from './change.ts';

export interface CertificateTarget {
  paths: ChasquidPaths;
  hostname: string;
  names: string[];
  settings: ReturnType<typeof parseChasquidConf>;
}

/** chasquid's hostname and the names its certificate must cover, read from the host. */
export async function certificateTarget(
  context: Pick<ChangeContext, 'host' | 'chasquidDir'>,
  extraNames: readonly string[]
): Promise<CertificateTarget> {
  const paths = new ChasquidPaths(context.chasquidDir);
  const text = await context.host.files.read(paths.configFile);
  if (text === undefined) {
    throw failedError('chasquid-conf-missing', `${paths.configFile} does not exist on the mail host.`, { hint: 'Check CHASQUID_DIR.' });
  }
  const settings = parseChasquidConf(text.toString('utf8'));
  const hostname = normalizeDomain(await chasquidHostname(context.host, settings), 'hostname of chasquid');
  return { paths, hostname, names: [...new Set([hostname, ...extraNames])], settings };
}
