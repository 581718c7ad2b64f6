// Work that waits for a person: a confirmation (Confirm/Cancel buttons), a modal (a typed password) or a button
// pressed during a command (`waitForPress`). Each waiting item has a random key, carried in the custom id of its
// buttons or modal, and expires: a confirmation after 60 s, as the buttons say; a single item may have its own time.
// Kept in memory only — after a restart, old buttons answer "expired".

import { randomBytes } from 'node:crypto';

export class PendingStore<Item> {
  readonly #ttlMs: number;
  readonly #onExpire: ((item: Item) => void) | undefined;
  readonly #items = new Map<string, { item: Item; timer: NodeJS.Timeout }>();

  constructor(ttlMs: number, onExpire?: (item: Item) => void) {
    this.#ttlMs = ttlMs;
    this.#onExpire = onExpire;
  }

  add(item: Item, ttlMs = this.#ttlMs): string {
    const key = randomBytes(12).toString('base64url');
    const timer = setTimeout(() => {
      this.#items.delete(key);
      this.#onExpire?.(item);
    }, ttlMs);
    timer.unref();
    this.#items.set(key, { item, timer });
    return key;
  }

  get(key: string): Item | undefined {
    return this.#items.get(key)?.item;
  }

  /** Removes the item (it is being answered) and returns it; undefined when it expired or was answered already. */
  take(key: string): Item | undefined {
    const entry = this.#items.get(key);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.#items.delete(key);
    return entry.item;
  }

  get size(): number {
    return this.#items.size;
  }

  /** Removes every item and returns them, without running the expiry (shutdown, when each must hear of it). */
  takeAll(): Item[] {
    const items = [...this.#items.values()].map((entry) => entry.item);
    this.clear();
    return items;
  }

  /** Drops everything without running the expiry (shutdown). */
  clear(): void {
    for (const entry of this.#items.values()) clearTimeout(entry.timer);
    this.#items.clear();
  }
}
