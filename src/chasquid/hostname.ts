// chasquid's hostname: `hostname` in chasquid.conf, or the system's host name, which is what chasquid itself uses
// when the setting is absent. It names the certificate directory (certs/<hostname>/) and is the name in the
// greeting, so the certificate must cover it.

import type { MailHost } from '../host/mail-host.ts';
import type { ChasquidSettings } from './config-file.ts';

export async function chasquidHostname(host: MailHost, settings: ChasquidSettings): Promise<string> {
  if (settings.hostname !== undefined) return settings.hostname;
  const result = await host.verbs.callOk('hostname');
  return result.stdout.toString('utf8').trim();
}
