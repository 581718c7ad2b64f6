// The per-host lock: operations that change the mail host run one at a time.
//
// Two layers. Inside one mailops process, a mutex queues the operations in order. Across processes (the bot and a
// CLI run by hand, two terminals), a lease on the host: `mailops-host lease acquire` hands out a token that lasts
// 45 seconds unless renewed, and we renew it every 10 seconds while the work runs. Every change the host accepts
// must carry the current token, so the lock is fenced: if it is lost (mailops was cut off longer than the lease
// lasts, and another writer took it), the host refuses our next change and the operation stops there — it never
// carries on unlocked. A connection that drops and comes back keeps the lease; a mailops that crashed frees it within
// 45 seconds; nobody holds it longer than an hour. The lease goes back while the answer goes to whoever asked.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Mutex } from 'async-mutex';
import { failedError } from '../errors.ts';
import { busyStatus, noLeaseStatus, type HostSession, type HostVerbs } from './verbs.ts';

const waitSeconds = 120;
const renewEveryMs = 10_000;

export class HostLock {
  readonly #verbs: HostVerbs;
  readonly #mutex = new Mutex();
  readonly #releasing = new Set<Promise<void>>();
  /**
   * Who holds the lease, as the host records it: this machine, this process and this lock. The host lets the same
   * holder take its lease back at once (its release was still on the way, or its answer lost); one lock's mutex
   * ensures it never holds two.
   */
  readonly #holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`.replace(/[^A-Za-z0-9@:._-]/g, '_');

  constructor(verbs: HostVerbs) {
    this.#verbs = verbs;
  }

  /**
   * Runs `work` while holding the lock; work queued in this process runs in the order it asked. Work that already
   * holds the lock (a step of a larger change) runs at once, in the same holding.
   */
  run<T>(work: (session: HostSession) => Promise<T>): Promise<T> {
    const current = this.#verbs.session;
    if (current !== undefined) return work(current);
    return this.#mutex.runExclusive(async () => {
      const session: HostSession = { token: await this.#acquire(), bases: new Map(), changes: 0, lost: false };
      const renewal = setInterval(() => {
        void this.#renew(session);
      }, renewEveryMs);
      renewal.unref();
      try {
        return await this.#verbs.inSession(session, () => work(session));
      } finally {
        clearInterval(renewal);
        // Released while the answer goes back to whoever asked (our next change may take the lease back from
        // ourselves at once); sent again if its answer was lost, and awaited before the connection closes.
        const release = () => this.#verbs.call('lease', ['release', session.token]).catch(() => undefined);
        const releasing = (async () => {
          if ((await release())?.code === null) await release();
        })();
        this.#releasing.add(releasing);
        void releasing.finally(() => this.#releasing.delete(releasing));
      }
    });
  }

  /** Resolves once every lease this process gave back has reached the host (before closing the connection). */
  async settled(): Promise<void> {
    await Promise.all([...this.#releasing]);
  }

  async #acquire(): Promise<string> {
    const holder = this.#holder;
    const deadline = Date.now() + waitSeconds * 1000;
    let result = await this.#askForLease(holder, waitSeconds);
    // The connection dropped while we waited (or before the answer): wait on, on a new connection. A lease the host
    // granted in that moment, whose token never reached us, runs out on its own within a lease's length.
    while (result.code === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      result = await this.#askForLease(holder, Math.max(1, Math.ceil((deadline - Date.now()) / 1000)));
    }
    const token = result.stdout.toString('utf8').trim();
    if (result.code === 0 && /^[0-9a-f]+$/.test(token)) return token;
    if (result.code === null) {
      throw failedError(
        'host-lock-failed',
        `The connection to the mail host kept dropping while mailops waited ${waitSeconds} s for its lock; nothing was changed.`,
        { hint: 'Check the connection to the mail host (and sshd there), then run the command again.' }
      );
    }
    if (result.code === busyStatus) {
      throw failedError(
        'host-lock-timeout',
        `Another mailops operation has held the lock on the mail host for over ${waitSeconds} s: ${result.stderr.trim().replace(/^mailops-host: /, '')}.`,
        { hint: 'Wait for it to finish and try again; a mailops that crashed frees the lock within a minute.' }
      );
    }
    throw failedError(
      'host-lock-failed',
      `Could not take the lock on the mail host: ${result.stderr.trim() || `mailops-host exited with status ${result.code}`}.`,
      { hint: 'Check that flock (util-linux) is installed on the mail host and that CHASQUID_DIR exists and belongs to root.' }
    );
  }

  #askForLease(holder: string, seconds: number) {
    return this.#verbs.call('lease', ['acquire', String(seconds), holder], { timeoutMs: (seconds + 30) * 1000 });
  }

  async #renew(session: HostSession): Promise<void> {
    if (session.lost) return;
    try {
      const result = await this.#verbs.inSession(session, () => this.#verbs.call('lease', ['renew', session.token]));
      if (result.code === noLeaseStatus) session.lost = true;
    } catch {
      // The connection is down: the next renewal (or change) tries again on a new one; the lease outlasts short outages.
    }
  }
}
