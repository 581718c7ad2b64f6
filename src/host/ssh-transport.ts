// mailops-host over SSH (ssh-connection.ts), for mailops running on another machine than the mail host.
//
// Logged in as root, mailops sends the script with every call and runs it with `sh -c` (shell mode); nothing needs
// installing on the host. Logged in as the restricted user that deploy/host-setup.sh creates, the SSH key can only
// run the installed copy (restricted mode): the call goes out as `mailops-v1` and one base64 word per argument, which
// the forced command (deploy/mailops-forced-command) hands to `sudo mailops-host --encoded`. Which mode applies is
// found once per connection: root is shell mode; any other user is asked `hello`, which only the forced command
// answers.

import type { Logger } from '../log.ts';
import { encodeWord, helloWords, restrictedHello, shellArgv } from './host-program.ts';
import { SshConnection, type SshSettings } from './ssh-connection.ts';
import type { CallOptions, ExecResult, HostMode, HostTransport } from './transport.ts';

export class SshTransport implements HostTransport {
  /** The connection itself, for what only SSH has (tests of the connection run commands of their own on it). */
  readonly connection: SshConnection;

  constructor(settings: SshSettings, logger: Logger) {
    this.connection = new SshConnection(settings, logger);
  }

  get label(): string {
    return this.connection.label;
  }

  mode(): Promise<HostMode> {
    return this.connection.once('host-mode', async () => {
      if (this.connection.settings.target.user === 'root') return 'shell';
      const reply = await this.connection.exec(restrictedArgv(helloWords));
      return restrictedHello(reply.stdout) ?? 'shell';
    });
  }

  async call(words: readonly string[], options: CallOptions = {}): Promise<ExecResult> {
    const argv = (await this.mode()) === 'restricted' ? restrictedArgv(words) : shellArgv(words);
    return this.connection.exec(argv, options);
  }

  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    return this.connection.once(key, compute);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** What the forced command accepts: `mailops-v1` and the words, base64-encoded. */
function restrictedArgv(words: readonly string[]): string[] {
  return ['mailops-v1', ...words.map(encodeWord)];
}
