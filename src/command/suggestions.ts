// Where an option's suggestions come from (Discord's autocomplete; src/bot/suggestions.ts caches them): the managed
// domains, and the senders and aliases on the host. A command definition names the source of each option.

import { listAliases } from '../ops/aliases.ts';
import { operationContext } from '../ops/context.ts';
import { listSenders } from '../ops/senders.ts';
import type { Runtime } from '../runtime.ts';

export interface SuggestionSource {
  /** A name for logs. */
  name: string;
  /** How long a fetched list stays good. */
  ttlMs: number;
  list(runtime: Runtime): Promise<string[]>;
}

/** The domains of MAIL_DOMAINS. */
export const domainSuggestions: SuggestionSource = {
  name: 'domains',
  ttlMs: Number.POSITIVE_INFINITY,
  list: async (runtime) => runtime.config.MAIL_DOMAINS ?? [],
};

const actor = 'discord:autocomplete';

/** The senders on the host, all managed domains. */
export const senderSuggestions: SuggestionSource = {
  name: 'senders',
  ttlMs: 15_000,
  list: async (runtime) => (await listSenders(operationContext(runtime, actor))).users,
};

/** The aliases on the host (catch-alls as *@domain), all managed domains. */
export const aliasSuggestions: SuggestionSource = {
  name: 'aliases',
  ttlMs: 15_000,
  list: async (runtime) => (await listAliases(operationContext(runtime, actor))).aliases.map((alias) => alias.address),
};
