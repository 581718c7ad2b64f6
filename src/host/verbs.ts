// Calls to mailops-host, the one program mailops runs on the mail host (deploy/mailops-host, where the verbs and
// their rules are described), through whichever transport reaches it (transport.ts: SSH or local, shell or
// restricted mode). Every call names CHASQUID_DIR, so that the host can refuse a mismatch with its own settings.
//
// A call made while this process holds the host lock (inside HostLock.run) carries the lock's lease token, which
// every verb that changes something requires: a writer that lost its lock is refused by the host itself.

import { AsyncLocalStorage } from 'node:async_hooks';
import { failedError } from '../errors.ts';
import { RemoteCommandError, type CallOptions, type ExecResult, type HostMode, type HostTransport } from './transport.ts';

/** The exit statuses mailops-host uses besides 0 (see the top of deploy/mailops-host). */
export const notFound = 44;
export const conflictStatus = 45;
export const noLeaseStatus = 46;
export const busyStatus = 47;
export const refusedStatus = 64;

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

export class HostVerbs {
  readonly #transport: HostTransport;
  readonly #chasquidDir: string;
  readonly #session = new AsyncLocalStorage<HostSession>();

  constructor(transport: HostTransport, chasquidDir: string) {
    this.#transport = transport;
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

  /** How the transport reaches mailops-host (shell or restricted mode). */
  mode(): Promise<HostMode> {
    return this.#transport.mode();
  }

  /** Runs a verb; the result carries its exit status (0, notFound, 64 for a refusal, or the program's own). */
  call(verb: string, args: readonly string[] = [], options: CallOptions = {}): Promise<ExecResult> {
    const token = this.session?.token;
    const words = ['--chasquid-dir', this.#chasquidDir, ...(token === undefined ? [] : ['--lease', token]), verb, ...args];
    return this.#transport.call(words, options);
  }

  /** Runs a verb and fails with its error output unless it succeeds. */
  async callOk(verb: string, args: readonly string[] = [], options: CallOptions = {}, hint?: string): Promise<ExecResult> {
    const result = await this.call(verb, args, options);
    if (result.code === noLeaseStatus) throw lockLostError(result);
    if (result.code !== 0) throw new RemoteCommandError(`mailops-host ${verb}`, result, hint);
    return result;
  }
}

/** The host refused a change because this process no longer holds the lock. */
export function lockLostError(result?: ExecResult): Error {
  return failedError(
    'host-lock-lost',
    'mailops lost the lock on the mail host (the connection was down longer than the lock lasts, or the lock ran out), so it stopped before changing anything more.',
    { hint: 'Run the command again; if it keeps happening, check the connection to the mail host.', cause: result?.stderr }
  );
}
