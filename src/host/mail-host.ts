// The mail host as the rest of mailops sees it: one SSH connection, the verbs of mailops-host over it, the host's
// files, and its lock. Nothing else reaches the host: every remote action is a mailops-host verb, so that the same
// code works as root and as the restricted user of deploy/host-setup.sh.

import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { SshConnection } from './connection.ts';
import { RemoteFiles } from './files.ts';
import { HostLock } from './lock.ts';
import { HostVerbs } from './verbs.ts';

export class MailHost {
  readonly connection: SshConnection;
  readonly verbs: HostVerbs;
  readonly files: RemoteFiles;
  readonly lock: HostLock;

  constructor(connection: SshConnection, chasquidDir: string) {
    this.connection = connection;
    this.verbs = new HostVerbs(connection, chasquidDir);
    this.files = new RemoteFiles(this.verbs);
    this.lock = new HostLock(this.verbs);
  }

  get label(): string {
    return this.connection.label;
  }

  async close(): Promise<void> {
    await this.lock.settled();
    await this.connection.close();
  }
}

/** The mail host of a configuration whose host settings were already required. */
export function mailHostFromConfig(config: Config, logger: Logger): MailHost {
  if (!config.MAIL_HOST || !config.SSH_KEY_FILE || !config.SSH_KNOWN_HOSTS_FILE) {
    throw new Error('mailHostFromConfig needs MAIL_HOST, SSH_KEY_FILE and SSH_KNOWN_HOSTS_FILE; call requireSettings first.');
  }
  const connection = new SshConnection({
    target: config.MAIL_HOST,
    privateKeyFile: config.SSH_KEY_FILE,
    knownHostsFile: config.SSH_KNOWN_HOSTS_FILE,
  }, logger);
  return new MailHost(connection, config.CHASQUID_DIR);
}
