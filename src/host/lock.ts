// The per-host lock: operations that change the mail host run one at a time.
//
// Two layers. Inside one mailops process, a mutex queues the operations in order. Across processes (the bot and a
// CLI run by hand, two terminals), a lease on the host: `mailops-host lease acquire` hands out a token that lasts
// 45 seconds unless renewed, and we renew it every 10 seconds while the work runs. Every change the host accepts
// must carry the current token, so the lock is fenced: if it is lost (mailops was cut off longer than the lease
// lasts, and another writer took it), the host refuses our next change and the operation stops there — it never
// carries on unlocked. A connection that drops and comes back keeps the lease; a mailops that crashed frees it within
// 45 seconds; nobody holds it longer than an hour.

import { hostname } from 'node:os';
import { Mutex } from 'async-mutex';
import { failedError } from '../errors.ts';
import { busyStatus, noLeaseStatus, type HostSession, type HostVerbs } from './verbs.ts';

const waitSeconds = 120;
const renewEveryMs = 10_000;

export class HostLock {
  readonly #verbs: HostVerbs;
  readonly #mutex = new Mutex();

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
      const renewal = setInterval(() => { void this.#renew(session); }, renewEveryMs);
      renewal.unref();
      try {
        return await this.#verbs.inSession(session, () => work(session));
      } finally {
        clearInterval(renewal);
        await this.#verbs.call('lease', ['release', session.token]).catch(() => undefined);
      }
    });
  }

  async #acquire(): Promise<string> {
    const holder = `${hostname()}:${process.pid}`.replace(/[^A-Za-z0-9@:._-]/g, '_');
    const result = await this.#verbs.call('lease', ['acquire', String(waitSeconds), holder], { timeoutMs: (waitSeconds + 30) * 1000 });
    const token = result.stdout.toString('utf8').trim();
    if (result.code === 0 && /^[0-9a-f]+$/.test(token)) return token;
    if (result.code === busyStatus) {
      throw failedError('host-lock-timeout', `Another mailops operation has held the lock on the mail host for over ${waitSeconds} s: ${result.stderr.trim().replace(/^mailops-host: /, '')}.`,
        { hint: 'Wait for it to finish and try again; a mailops that crashed frees the lock within a minute.' });
    }
    throw failedError('host-lock-failed', `Could not take the lock on the mail host: ${result.stderr.trim() || `mailops-host exited with status ${result.code}`}.`,
      { hint: 'Check that flock (util-linux) is installed on the mail host and that CHASQUID_DIR exists and belongs to root.' });
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
