// The aliases file of one chasquid domain (domains/<domain>/aliases).
//
// Lines are `user: target, target`, `user: | command`, `# comment` or blank (chasquid's internal/aliases). The left
// side has no `@`, white space, `:` or `,`; it is folded to lower case and chasquid's drop characters (`.` by
// default) are removed from it up to the first suffix separator (`+`), so `Sales.Team` and `salesteam` are the
// same alias. `*` is the catch-all (chasquid 1.10+). A target without `@` is in the file's own domain. When an
// alias appears twice, the last line wins. Up to chasquid 1.15 a line it cannot parse is skipped silently; from
// 1.16 it stops the daemon.
//
// We keep every line we do not change exactly as it was — comments, order, pipe aliases, lines we cannot parse —
// because the file belongs to the operator first and to us second. Setting an alias rewrites its first line in
// place and drops its later duplicates (which chasquid would have let win); a new alias goes at the end.

import { usageError } from '../errors.ts';

export interface AliasEntry {
  /** The left side as written. */
  user: string;
  /** The lookup key chasquid uses (lower case, drop characters removed). */
  key: string;
  /** Targets as full addresses, in order; empty for a pipe alias. */
  targets: string[];
  /** The command of a pipe alias. */
  pipe: string | undefined;
}

type Line = { kind: 'text'; text: string; invalid: boolean } | { kind: 'alias'; text: string; entry: AliasEntry };

export interface AliasRules {
  /** chasquid.conf `drop_characters` (default "."). */
  dropCharacters: string;
  /** chasquid.conf `suffix_separators` (default "+"). */
  suffixSeparators: string;
}

export const defaultAliasRules: AliasRules = { dropCharacters: '.', suffixSeparators: '+' };

/** The key chasquid looks an alias up by (RemoveDropCharacters, then lower case). */
export function aliasKey(user: string, rules: AliasRules): string {
  // Found and cut in the same list of code points: a string index counts UTF-16 units, which differ after an emoji.
  const characters = Array.from(user.toLowerCase());
  const suffixAt = characters.findIndex((character) => rules.suffixSeparators.includes(character));
  const head = suffixAt === -1 ? characters : characters.slice(0, suffixAt);
  const tail = suffixAt === -1 ? [] : characters.slice(suffixAt);
  return [...head.filter((character) => !rules.dropCharacters.includes(character)), ...tail].join('');
}

function parseLine(text: string, domain: string, rules: AliasRules): Line {
  const line = text.trim();
  if (line === '' || line.startsWith('#')) return { kind: 'text', text, invalid: false };
  const colon = line.indexOf(':');
  const user = colon === -1 ? '' : line.slice(0, colon).trim();
  const right = colon === -1 ? '' : line.slice(colon + 1).trim();
  if (user === '' || right === '' || /[@\s,]/.test(user)) return { kind: 'text', text, invalid: true };
  if (right.startsWith('|')) {
    const pipe = right.slice(1).trim();
    if (pipe === '') return { kind: 'text', text, invalid: true };
    return { kind: 'alias', text, entry: { user, key: aliasKey(user, rules), targets: [], pipe } };
  }
  const targets = right
    .split(',')
    .map((target) => target.trim())
    .filter((target) => target !== '')
    .map((target) => (target.includes('@') ? target : `${target}@${domain}`));
  return { kind: 'alias', text, entry: { user, key: aliasKey(user, rules), targets, pipe: undefined } };
}

export class AliasesFile {
  readonly #lines: Line[];
  readonly #domain: string;
  readonly #rules: AliasRules;
  /** Whether the file ends with a line break (kept as found; a line we append always gets one). */
  #finalNewline: boolean;

  private constructor(lines: Line[], domain: string, rules: AliasRules, finalNewline: boolean) {
    this.#lines = lines;
    this.#domain = domain;
    this.#rules = rules;
    this.#finalNewline = finalNewline;
  }

  static parse(content: string | undefined, domain: string, rules: AliasRules = defaultAliasRules): AliasesFile {
    const text = content ?? '';
    const finalNewline = text === '' || text.endsWith('\n');
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    const lines = body === '' ? [] : body.split('\n').map((line) => parseLine(line, domain, rules));
    return new AliasesFile(lines, domain, rules, finalNewline);
  }

  /** Lines chasquid cannot parse (kept as they are; fatal for chasquid 1.16+). */
  invalidLines(): string[] {
    return this.#lines.flatMap((line) => (line.kind === 'text' && line.invalid ? [line.text] : []));
  }

  /** The aliases as chasquid sees them: one per key, the last line winning, in the order of first appearance. */
  entries(): AliasEntry[] {
    const effective = new Map<string, AliasEntry>();
    for (const line of this.#lines) if (line.kind === 'alias') effective.set(line.entry.key, line.entry);
    return [...effective.values()];
  }

  get(user: string): AliasEntry | undefined {
    const key = aliasKey(user, this.#rules);
    return this.entries().find((entry) => entry.key === key);
  }

  /** Creates or replaces the alias. Pipe aliases are the operator's: they are never replaced. */
  set(user: string, targets: readonly string[]): void {
    const key = aliasKey(user, this.#rules);
    this.#refusePipe(key, user);
    this.#put({ kind: 'alias', text: `${user}: ${targets.join(', ')}`, entry: { user, key, targets: [...targets], pipe: undefined } });
  }

  /**
   * Creates or replaces a pipe alias. Only for mailops's own aliases with a command mailops chose (the probe's
   * capture); operators' input never reaches this.
   */
  setOwnPipe(user: string, command: string): void {
    const key = aliasKey(user, this.#rules);
    this.#put({ kind: 'alias', text: `${user}: | ${command}`, entry: { user, key, targets: [], pipe: command } });
  }

  /** Puts an alias line in place of the first line of its alias (dropping later duplicates), or at the end. */
  #put(line: Line & { kind: 'alias' }): void {
    const key = line.entry.key;
    const first = this.#lines.findIndex((candidate) => candidate.kind === 'alias' && candidate.entry.key === key);
    if (first === -1) {
      this.#lines.push(line);
      this.#finalNewline = true;
      return;
    }
    this.#lines[first] = line;
    this.#removeFrom(key, first + 1);
  }

  /** Removes every line of the alias; false when there was none. */
  remove(user: string): boolean {
    const key = aliasKey(user, this.#rules);
    this.#refusePipe(key, user);
    const before = this.#lines.length;
    this.#removeFrom(key, 0);
    return this.#lines.length !== before;
  }

  toString(): string {
    const body = this.#lines.map((line) => line.text).join('\n');
    return body === '' || !this.#finalNewline ? body : `${body}\n`;
  }

  /** The lines we do not own (comments, blank, pipe or unparseable lines), for checking that a change kept them. */
  preservedLines(): string[] {
    return this.#lines.filter((line) => line.kind === 'text' || line.entry.pipe !== undefined).map((line) => line.text);
  }

  #removeFrom(key: string, start: number): void {
    for (let index = this.#lines.length - 1; index >= start; index -= 1) {
      const line = this.#lines[index];
      if (line?.kind === 'alias' && line.entry.key === key) this.#lines.splice(index, 1);
    }
  }

  #refusePipe(key: string, user: string): void {
    const current = this.entries().find((entry) => entry.key === key);
    if (current?.pipe !== undefined) {
      throw usageError(
        'pipe-alias-refused',
        `${user}@${this.#domain} is a pipe alias ("| ${current.pipe}"); mailops does not change pipe aliases.`,
        `Edit domains/${this.#domain}/aliases on the host by hand to change or remove it.`
      );
    }
  }
}
