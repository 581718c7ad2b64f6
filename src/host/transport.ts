// How mailops reaches mailops-host (deploy/mailops-host), the one program it runs on the mail host: a transport runs
// one call of it — its words, an upload on standard input — and hands back what it printed and how it exited.
//
// Two transports: SSH (ssh-transport.ts, mailops on another machine) and local (local-transport.ts, mailops on the
// mail host itself). Each reaches mailops-host in one of two modes: as root it runs the project's copy of the script
// with `sh -c` (shell mode, nothing installed); otherwise it runs the copy deploy/host-setup.sh installed, as root
// through that script's sudo rule, with every word base64-encoded (restricted mode). Above this interface nothing
// knows which transport or mode is in use.
//
// The contract every transport keeps:
//   - Words are separate arguments; uploads (file contents, private keys, password hashes) go on standard input and
//     never into an argument, which any user of the machine could read in the process list.
//   - The exit status is mailops-host's own (see the top of deploy/mailops-host and verbs.ts).
//   - `code: null` means the answer was lost: the connection dropped or the process was killed before it exited, so
//     the call may or may not have taken effect. The lock (lock.ts) and atomic writes (files.ts) rely on this to ask
//     the host what happened instead of guessing.
//   - A call that runs past its timeout is stopped and fails with `host-command-timeout`; one that prints more than
//     `maxOutputBytes` fails with `host-output-too-large`.

import { MailopsError } from '../errors.ts';

export interface CallOptions {
  /** Written to the program's standard input, which is then closed. Without it, standard input is closed at once. */
  stdin?: string | Buffer;
  /** The program is stopped and the call fails after this long (default 60 s). */
  timeoutMs?: number;
}

export interface ExecResult {
  /** The exit status; null when the answer was lost (see the top of this file). */
  code: number | null;
  signal: string | undefined;
  stdout: Buffer;
  stderr: string;
}

/** Shell mode (root runs the script it is given) or restricted mode (the installed copy, through sudo). */
export type HostMode = 'shell' | 'restricted';

export interface HostTransport {
  /** Who reaches which host, for messages and logs (`root@mail.example.com:22`, `local (as root)`). */
  readonly label: string;
  /** How this transport reaches mailops-host; found out once (and checked: the installed version must match). */
  mode(): Promise<HostMode>;
  /** Runs mailops-host with these words (its options, a verb and the verb's arguments). */
  call(words: readonly string[], options?: CallOptions): Promise<ExecResult>;
  /**
   * A fact about the host computed once (the chasquid version, say) and kept while the host can be assumed the same:
   * for SSH until the connection is replaced (a reconnect may mean the host was upgraded or replaced).
   */
  once<T>(key: string, compute: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const defaultTimeoutMs = 60_000;
export const maxOutputBytes = 64 * 1024 * 1024;

/** Facts computed once each, until cleared. A failed computation is not kept: the next caller tries again. */
export class Facts {
  readonly #values = new Map<string, Promise<unknown>>();

  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let value = this.#values.get(key) as Promise<T> | undefined;
    if (value === undefined) {
      value = compute();
      this.#values.set(key, value);
      value.catch(() => this.#values.delete(key));
    }
    return value;
  }

  clear(): void {
    this.#values.clear();
  }
}

/** The program on the mail host did not run to completion as expected; carries its output for the caller's message. */
export class RemoteCommandError extends MailopsError {
  readonly result: ExecResult;
  constructor(program: string, result: ExecResult, hint?: string) {
    const detail = result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
    const status = result.code === null ? `was killed (${result.signal ?? 'no exit status'})` : `exited with status ${result.code}`;
    super(
      'failed',
      'remote-command-failed',
      `${program} on the mail host ${status}${detail ? `: ${detail}` : '.'}`,
      hint === undefined ? {} : { hint }
    );
    this.result = result;
  }
}
