// The per-host lock: operations that change the mail host run one at a time.
//
// Two layers. Inside one mailops process, a mutex queues the operations in order. Across processes (the bot and a
// CLI run by hand, two terminals), a remote `flock` on CHASQUID_DIR itself holds the lock on the host for as long as
// our channel stays open; closing the channel, or losing the connection, ends the remote process and frees the lock,
// so a crashed mailops never leaves the host locked. Locking the directory creates no file in the operator's tree.

import { Mutex } from 'async-mutex';
import type { HostVerbs } from './verbs.ts';

const waitSeconds = 120;

export class HostLock {
  readonly #verbs: HostVerbs;
  readonly #mutex = new Mutex();

  constructor(verbs: HostVerbs) {
    this.#verbs = verbs;
  }

  /** Runs `work` while holding the lock; work queued in this process runs in the order it asked. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.#mutex.runExclusive(async () => {
      const channel = await this.#verbs.hold('lock', [String(waitSeconds)], 'locked', (waitSeconds + 10) * 1000);
      try {
        return await work();
      } finally {
        channel.end();
      }
    });
  }
}
