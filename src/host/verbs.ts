// Calls to mailops-host, the one program mailops runs on the mail host (deploy/mailops-host, where the verbs and
// their rules are described).
//
// Logged in as root, mailops sends that script with every call and runs it with `sh -c` (shell mode); nothing needs
// installing on the host. Logged in as the restricted user that deploy/host-setup.sh creates, the SSH key can only
// run the installed copy (restricted mode): the call goes out as `mailops-v1` and one base64 word per argument, which
// the forced command hands to `sudo mailops-host --encoded`. Which mode applies is found once per connection: root
// is shell mode; any other user is asked `hello`, which only the forced command answers.
//
// A call made while this process holds the host lock (inside HostLock.run) carries the lock's lease token, which
// every verb that changes something requires: a writer that lost its lock is refused by the host itself.

import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { failedError } from '../errors.ts';
import { RemoteCommandError, type ExecOptions, type ExecResult, type SshConnection } from './connection.ts';

const helperSource = readFileSync(new URL('../../deploy/mailops-host', import.meta.url), 'utf8');
const helperVersion = /^version=([0-9]+)$/m.exec(helperSource)?.[1] ?? '0';

/** The exit statuses mailops-host uses besides 0 (see the top of deploy/mailops-host). */
export const notFound = 44;
export const conflictStatus = 45;
export const noLeaseStatus = 46;
export const busyStatus = 47;
export const refusedStatus = 64;

export type HostMode = 'shell' | 'restricted';

/** One holding of the host lock: its lease, the contents its changes are based on, what it changed. */
export interface HostSession {
  readonly token: string;
  /** SHA-256 (or "absent") of each file as this session last read or wrote it: the base of its next change. */
  readonly bases: Map<string, string>;
  /** Changes this session made on the host (writes, removals, restarts, commits). */
  changes: number;
  /** Set when a renewal found the lease gone: nothing more may be written. */
  lost: boolean;
}

const encode = (argument: string) => Buffer.from(argument, 'utf8').toString('base64');

export class HostVerbs {
  readonly #connection: SshConnection;
  readonly #chasquidDir: string;
  readonly #session = new AsyncLocalStorage<HostSession>();

  constructor(connection: SshConnection, chasquidDir: string) {
    this.#connection = connection;
    this.#chasquidDir = chasquidDir;
  }

  /** The lock holding the current call runs in, if any. */
  get session(): HostSession | undefined {
    return this.#session.getStore();
  }

  /** Runs `work` with calls carrying `session`'s lease. */
  inSession<T>(session: HostSession, work: () => Promise<T>): Promise<T> {
    return this.#session.run(session, work);
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
    const token = this.session?.token;
    const words = ['--chasquid-dir', this.#chasquidDir, ...(token === undefined ? [] : ['--lease', token]), verb, ...args];
    return (await this.mode()) === 'restricted' ? ['mailops-v1', ...words.map(encode)] : ['sh', '-c', helperSource, 'mailops-host', ...words];
  }

  /** Runs a verb; the result carries its exit status (0, notFound, 64 for a refusal, or the program's own). */
  async call(verb: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    return this.#connection.exec(await this.#argv(verb, args), options);
  }

  /** Runs a verb and fails with its error output unless it succeeds. */
  async callOk(verb: string, args: readonly string[] = [], options: ExecOptions = {}, hint?: string): Promise<ExecResult> {
    const result = await this.call(verb, args, options);
    if (result.code === noLeaseStatus) throw lockLostError(result);
    if (result.code !== 0) throw new RemoteCommandError(`mailops-host ${verb}`, result, hint);
    return result;
  }
}

/** The host refused a change because this process no longer holds the lock. */
export function lockLostError(result?: ExecResult): Error {
  return failedError('host-lock-lost', 'mailops lost the lock on the mail host (the connection was down longer than the lock lasts, or the lock ran out), so it stopped before changing anything more.',
    { hint: 'Run the command again; if it keeps happening, check the connection to the mail host.', cause: result?.stderr });
}
