// Calls to mailops-host, the one program mailops runs on the mail host (deploy/mailops-host, where the verbs and
// their path checks are described).
//
// Logged in as root, mailops sends that script with every call and runs it with `sh -c` (shell mode); nothing needs
// installing on the host. Logged in as the restricted user that deploy/host-setup.sh creates, the SSH key can only
// run the installed copy (restricted mode): the call goes out as `mailops-v1` and one base64 word per argument, which
// the forced command hands to `sudo mailops-host --encoded`. Which mode applies is found once per connection: root
// is shell mode; any other user is asked `hello`, which only the forced command answers.

import { readFileSync } from 'node:fs';
import type { ClientChannel } from 'ssh2';
import { failedError } from '../errors.ts';
import { RemoteCommandError, type ExecOptions, type ExecResult, type SshConnection } from './connection.ts';

const helperSource = readFileSync(new URL('../../deploy/mailops-host', import.meta.url), 'utf8');
const helperVersion = /^version=([0-9]+)$/m.exec(helperSource)?.[1] ?? '0';

/** The exit status mailops-host uses for "no such file". */
export const notFound = 44;

export type HostMode = 'shell' | 'restricted';

const encode = (argument: string) => Buffer.from(argument, 'utf8').toString('base64');

export class HostVerbs {
  readonly #connection: SshConnection;
  readonly #chasquidDir: string;

  constructor(connection: SshConnection, chasquidDir: string) {
    this.#connection = connection;
    this.#chasquidDir = chasquidDir;
  }

  /** How this connection reaches mailops-host; checked once per connection. */
  mode(): Promise<HostMode> {
    return this.#connection.once('host-mode', async () => {
      if (this.#connection.settings.target.user === 'root') return 'shell';
      const reply = await this.#connection.exec(['mailops-v1', ...['hello'].map(encode)]);
      const answer = /^mailops-host ([0-9]+) restricted$/m.exec(reply.stdout.toString('utf8'));
      if (answer === null) return 'shell';
      if (answer[1] !== helperVersion) {
        throw failedError('host-helper-outdated', `The mail host runs mailops-host version ${answer[1]}, and this mailops needs version ${helperVersion}.`,
          { hint: 'Run deploy/host-setup.sh from this version of mailops on the mail host again.' });
      }
      return 'restricted';
    });
  }

  async #argv(verb: string, args: readonly string[]): Promise<string[]> {
    const words = ['--chasquid-dir', this.#chasquidDir, verb, ...args];
    return (await this.mode()) === 'restricted' ? ['mailops-v1', ...words.map(encode)] : ['sh', '-c', helperSource, 'mailops-host', ...words];
  }

  /** Runs a verb; the result carries its exit status (0, notFound, 64 for a refusal, or the program's own). */
  async call(verb: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    return this.#connection.exec(await this.#argv(verb, args), options);
  }

  /** Runs a verb and fails with its error output unless it succeeds. */
  async callOk(verb: string, args: readonly string[] = [], options: ExecOptions = {}, hint?: string): Promise<ExecResult> {
    const result = await this.call(verb, args, options);
    if (result.code !== 0) throw new RemoteCommandError(`mailops-host ${verb}`, result, hint);
    return result;
  }

  /** Starts a verb that keeps running (the lock) and returns its channel once it printed `ready`. */
  async hold(verb: string, args: readonly string[], ready: string, timeoutMs: number): Promise<ClientChannel> {
    return this.#connection.hold(await this.#argv(verb, args), ready, timeoutMs);
  }
}
