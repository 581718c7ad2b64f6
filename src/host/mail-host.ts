// The mail host as the rest of mailops sees it: one SSH connection, its files, and its lock.

import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { SshConnection, type ExecOptions, type ExecResult } from './connection.ts';
import { RemoteFiles } from './files.ts';
import { HostLock } from './lock.ts';

export class MailHost {
  readonly connection: SshConnection;
  readonly files: RemoteFiles;
  readonly lock: HostLock;

  constructor(connection: SshConnection, lockPath: string) {
    this.connection = connection;
    this.files = new RemoteFiles((argv, options) => connection.exec(argv, options));
    this.lock = new HostLock(connection, lockPath);
  }

  get label(): string {
    return this.connection.label;
  }

  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return this.connection.exec(argv, options);
  }

  execOk(argv: readonly string[], options?: ExecOptions, hint?: string): Promise<ExecResult> {
    return this.connection.execOk(argv, options, hint);
  }

  close(): Promise<void> {
    return this.connection.close();
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
