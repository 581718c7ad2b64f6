// Whether a local address exists for chasquid — the question that decides if mail to it is delivered, bounces, or,
// with a catch-all in the domain, loops: chasquid resolves a missing local target through the catch-all again and
// again until its recursion limit, and then refuses the message for every recipient ("recursion limit exceeded").
//
// chasquid's rules (internal/aliases Resolve/Exists): an alias matches the address with drop characters removed
// (suffix kept), or failing that with the suffix cut off and drop characters removed; a sender matches the latter.

import { aliasKey, type AliasEntry, type AliasRules } from './aliases-file.ts';

export interface DomainAddresses {
  /** Sender local parts (users file keys). */
  senders: ReadonlySet<string>;
  /** Alias keys (aliasKey of the left sides), the catch-all `*` included. */
  aliases: ReadonlySet<string>;
}

/** The local part with the suffix cut off and drop characters removed, in lower case. */
export function cleanLocal(local: string, rules: AliasRules): string {
  // Found and cut in the same list of code points: a string index counts UTF-16 units, which differ after an emoji.
  const characters = Array.from(local.toLowerCase());
  const suffixAt = characters.findIndex((character) => rules.suffixSeparators.includes(character));
  const head = suffixAt === -1 ? characters : characters.slice(0, suffixAt);
  return head.filter((character) => !rules.dropCharacters.includes(character)).join('');
}

/** Whether mail to `local` is taken by a sender or an alias (the catch-all does not count: it is the fallback). */
export function localAddressExists(local: string, addresses: DomainAddresses, rules: AliasRules): boolean {
  const clean = cleanLocal(local, rules);
  return addresses.aliases.has(aliasKey(local, rules)) || addresses.aliases.has(clean) || addresses.senders.has(clean);
}

export interface DomainState {
  domain: string;
  senders: ReadonlySet<string>;
  aliases: readonly AliasEntry[];
}

export interface DanglingTarget {
  /** The alias (`local@domain`) that forwards to the missing address. */
  alias: string;
  target: string;
}

/** Alias targets in a domain served here that no sender or alias takes. */
export function danglingTargets(states: readonly DomainState[], rules: AliasRules): DanglingTarget[] {
  const byDomain = new Map(
    states.map((state) => [
      state.domain,
      {
        senders: state.senders,
        aliases: new Set(state.aliases.map((entry) => entry.key)),
      } satisfies DomainAddresses,
    ])
  );
  const dangling: DanglingTarget[] = [];
  for (const state of states) {
    for (const entry of state.aliases) {
      for (const target of entry.targets) {
        const at = target.lastIndexOf('@');
        const addresses = byDomain.get(target.slice(at + 1));
        if (addresses !== undefined && !localAddressExists(target.slice(0, at), addresses, rules)) {
          dangling.push({ alias: `${entry.user.toLowerCase()}@${state.domain}`, target });
        }
      }
    }
  }
  return dangling;
}

/** `alias@domain → target`, for messages. */
export function describeDangling(entry: DanglingTarget): string {
  return `${entry.alias} → ${entry.target}`;
}
