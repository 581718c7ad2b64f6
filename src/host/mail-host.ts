// The mail host as the rest of mailops sees it: a transport to mailops-host (over SSH, or local when mailops runs on
// the mail host itself), the verbs of mailops-host over it, the host's files, and its lock. Nothing else reaches the
// host: every remote action is a mailops-host verb, so that the same code works as root and as the restricted user of
// deploy/host-setup.sh, from another machine or from the host itself.

import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { RemoteFiles } from './files.ts';
import { LocalTransport } from './local-transport.ts';
import { HostLock } from './lock.ts';
import { SshTransport } from './ssh-transport.ts';
import type { HostTransport } from './transport.ts';
import { HostVerbs } from './verbs.ts';

export class MailHost {
  readonly transport: HostTransport;
  readonly verbs: HostVerbs;
  readonly files: RemoteFiles;
  readonly lock: HostLock;

  constructor(transport: HostTransport, chasquidDir: string) {
    this.transport = transport;
    this.verbs = new HostVerbs(transport, chasquidDir);
    this.files = new RemoteFiles(this.verbs);
    this.lock = new HostLock(this.verbs);
  }

  get label(): string {
    return this.transport.label;
  }

  /** A fact about the host computed once while the host can be assumed the same (see HostTransport.once). */
  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    return this.transport.once(key, compute);
  }

  async close(): Promise<void> {
    await this.lock.settled();
    await this.transport.close();
  }
}

/** The mail host of a configuration whose host settings were already required (requireSettings). */
export function mailHostFromConfig(config: Config, logger: Logger): MailHost {
  const target = config.MAIL_HOST;
  if (target?.transport === 'local') return new MailHost(new LocalTransport({ program: target.program }, logger), config.CHASQUID_DIR);
  if (!target || !config.SSH_KEY_FILE || !config.SSH_KNOWN_HOSTS_FILE) {
    throw new Error('mailHostFromConfig needs MAIL_HOST, and SSH_KEY_FILE and SSH_KNOWN_HOSTS_FILE for SSH; call requireSettings first.');
  }
  const transport = new SshTransport({ target, privateKeyFile: config.SSH_KEY_FILE, knownHostsFile: config.SSH_KNOWN_HOSTS_FILE }, logger);
  return new MailHost(transport, config.CHASQUID_DIR);
}
