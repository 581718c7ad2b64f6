// Autocomplete: a short cache in front of the suggestion sources (src/command/suggestions.ts).
//
// Discord drops an autocomplete answer that comes later than 3 seconds, and people type fast: a source that asks the
// mail host (existing senders, aliases) is cached for a few seconds, concurrent lookups share one request, and an
// answer waits at most `waitMs` for a fresh list — after that it uses what it has (possibly nothing) while the
// lookup finishes for the next keystroke. A change made through the bot clears the cache.

import type { SuggestionSource } from '../command/suggestions.ts';
import type { Runtime } from '../runtime.ts';

/** Discord shows at most 25 choices. */
const maxChoices = 25;

interface Entry {
  values: string[] | undefined;
  fetchedAt: number;
  pending: Promise<string[]> | undefined;
}

export class SuggestionCache {
  readonly #runtime: Runtime;
  readonly #waitMs: number;
  readonly #entries = new Map<SuggestionSource, Entry>();

  constructor(runtime: Runtime, options: { waitMs?: number } = {}) {
    this.#runtime = runtime;
    this.#waitMs = options.waitMs ?? 1500;
  }

  /** Up to 25 values of the source containing `typed` (case-insensitive), those starting with it first. */
  async suggest(source: SuggestionSource, typed: string): Promise<string[]> {
    const values = await this.#values(source);
    const needle = typed.trim().toLowerCase();
    const matching = values.filter((value) => value.toLowerCase().includes(needle));
    const starting = matching.filter((value) => value.toLowerCase().startsWith(needle));
    return [...new Set([...starting, ...matching])].slice(0, maxChoices);
  }

  /** Forgets every cached list (after a change, the host's lists are different). */
  clear(): void {
    for (const entry of this.#entries.values()) entry.fetchedAt = Number.NEGATIVE_INFINITY;
  }

  async #values(source: SuggestionSource): Promise<string[]> {
    const entry = this.#entries.get(source) ?? { values: undefined, fetchedAt: Number.NEGATIVE_INFINITY, pending: undefined };
    this.#entries.set(source, entry);
    if (entry.values && Date.now() - entry.fetchedAt < source.ttlMs) return entry.values;
    entry.pending ??= source
      .list(this.#runtime)
      .then((values) => {
        entry.values = values;
        entry.fetchedAt = Date.now();
        return values;
      })
      .catch((error: unknown) => {
        this.#runtime.logger.warn({ err: error, source: source.name }, 'autocomplete: could not list suggestions');
        return entry.values ?? [];
      })
      .finally(() => {
        entry.pending = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve(entry.values ?? []), this.#waitMs);
    });
    try {
      return await Promise.race([entry.pending, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
