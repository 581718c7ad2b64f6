// The users file of one chasquid domain (domains/<domain>/users): its senders and their password hashes.
//
// chasquid stores a protocol buffer in text format:
//
//   users: {
//     key: "alice"
//     value: { scrypt: { logN: 14 r: 8 p: 1 keyLen: 32 salt: "..." encrypted: "..." } }
//   }
//
// one `users` entry per sender (the key is the local part), strings with C-style escapes (`\x04`, `\303`, `\"`,
// `\u02b1` for a code point as UTF-8) or raw bytes (chasquid 1.15 writes some UTF-8 sequences raw). Other schemes (`plain`, the receive-only
// `denied`) and fields we do not know may appear too.
//
// We never re-encode what we did not change: the file is split into the `users` entries (kept byte for byte) and
// the text between them (comments, blank lines, unknown fields), and only the entry being set or removed is
// touched. A file we cannot split is refused rather than rewritten. Bytes are handled as latin1 strings, which map
// every byte to one character and back, so raw UTF-8 survives untouched.
// Written by hand: no npm package reads protobuf text format without the schema compiled in, and we need only this
// one message with exact preservation, which generic libraries do not offer.

import { randomBytes, scrypt as scryptCallback } from 'node:crypto';
import { promisify } from 'node:util';
import { failedError } from '../errors.ts';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keyLength: number,
  options: { N: number; r: number; p: number; maxmem: number }
) => Promise<Buffer>;

/** chasquid's parameters (userdb.go): N = 2^14, r = 8, p = 1, 32-byte key, 16-byte salt. */
export const scryptParameters = { logN: 14, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;

type Segment = { kind: 'text'; text: string } | { kind: 'user'; key: string; text: string };

export class UsersFileError extends Error {}

/** Decodes a quoted text-format string (the quotes included) into bytes, as a latin1 string. */
export function decodeString(quoted: string): string {
  const quote = quoted[0];
  let out = '';
  for (let index = 1; index < quoted.length - 1; index += 1) {
    const character = quoted[index] ?? '';
    if (character !== '\\') {
      out += character;
      continue;
    }
    index += 1;
    const next = quoted[index] ?? '';
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
      '\\': '\\',
      "'": "'",
      '"': '"',
      '?': '?',
    };
    const escaped = simple[next];
    if (escaped !== undefined) {
      out += escaped;
    } else if (next === 'x' || next === 'X') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(quoted.slice(index + 1, index + 3))?.[0];
      if (hex === undefined) throw new UsersFileError('bad \\x escape');
      out += String.fromCharCode(parseInt(hex, 16));
      index += hex.length;
    } else if (next === 'u' || next === 'U') {
      // A Unicode code point, stored as its UTF-8 bytes (chasquid 1.15 writes these).
      const digits = next === 'u' ? 4 : 8;
      const hex = quoted.slice(index + 1, index + 1 + digits);
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) throw new UsersFileError(`bad \\${next} escape`);
      out += Buffer.from(String.fromCodePoint(parseInt(hex, 16)), 'utf8').toString('latin1');
      index += digits;
    } else if (/[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(quoted.slice(index, index + 3))?.[0] ?? '';
      out += String.fromCharCode(parseInt(octal, 8) & 0xff);
      index += octal.length - 1;
    } else {
      throw new UsersFileError(`unknown escape \\${next}`);
    }
  }
  if (quoted[quoted.length - 1] !== quote) throw new UsersFileError('unterminated string');
  return out;
}

/** Encodes bytes (a latin1 string) as a quoted string: printable ASCII as is, everything else as 3-digit octal. */
export function encodeString(bytes: string): string {
  let out = '"';
  for (const character of bytes) {
    const code = character.charCodeAt(0);
    if (character === '"' || character === '\\') out += `\\${character}`;
    else if (code >= 0x20 && code < 0x7f) out += character;
    else out += `\\${code.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** Reads a quoted string starting at `start`; returns the index just after it. */
function skipString(text: string, start: number): number {
  const quote = text[start];
  for (let index = start + 1; index < text.length; index += 1) {
    const character = text[index];
    if (character === '\\') index += 1;
    else if (character === quote) return index + 1;
    else if (character === '\n') break;
  }
  throw new UsersFileError(`unterminated string at offset ${start}`);
}

/** Skips white space and `#` comments. */
function skipSpace(text: string, start: number): number {
  let index = start;
  while (index < text.length) {
    const character = text[index] ?? '';
    if (character === '#') {
      const end = text.indexOf('\n', index);
      index = end === -1 ? text.length : end + 1;
    } else if (/\s/.test(character)) {
      index += 1;
    } else {
      break;
    }
  }
  return index;
}

/** From an opening `{` or `<`, the index just after its matching close, and the `key` string found at depth 1. */
function readMessage(text: string, open: number): { end: number; key: string | undefined } {
  const closeOf: Record<string, string> = { '{': '}', '<': '>' };
  const stack = [closeOf[text[open] ?? ''] ?? ''];
  let key: string | undefined;
  let index = open + 1;
  while (index < text.length) {
    index = skipSpace(text, index);
    const character = text[index] ?? '';
    if (character === '"' || character === "'") {
      index = skipString(text, index);
    } else if (character === '{' || character === '<') {
      stack.push(closeOf[character] ?? '');
      index += 1;
    } else if (character === '}' || character === '>') {
      if (stack.pop() !== character) throw new UsersFileError(`unbalanced "${character}" at offset ${index}`);
      index += 1;
      if (stack.length === 0) return { end: index, key };
    } else if (stack.length === 1 && text.startsWith('key', index) && !/[A-Za-z0-9_]/.test(text[index + 3] ?? '')) {
      let at = skipSpace(text, index + 3);
      if (text[at] === ':') at = skipSpace(text, at + 1);
      if (text[at] !== '"' && text[at] !== "'") throw new UsersFileError(`a key that is not a string at offset ${at}`);
      const end = skipString(text, at);
      key = decodeString(text.slice(at, end));
      index = end;
    } else if (character === '') {
      break;
    } else {
      index += 1;
    }
  }
  throw new UsersFileError(`unterminated message starting at offset ${open}`);
}

export class UsersFile {
  readonly #segments: Segment[];

  private constructor(segments: Segment[]) {
    this.#segments = segments;
  }

  /** Splits the file; throws UsersFileError when it cannot be read safely. */
  static parse(content: Buffer | undefined): UsersFile {
    const text = content?.toString('latin1') ?? '';
    const segments: Segment[] = [];
    let index = 0;
    let textStart = 0;
    while (true) {
      index = skipSpace(text, index);
      if (index >= text.length) break;
      const field = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(index))?.[0];
      if (field === undefined) throw new UsersFileError(`unexpected "${text[index]}" at offset ${index}`);
      const fieldStart = index;
      index = skipSpace(text, index + field.length);
      if (text[index] === ':') index = skipSpace(text, index + 1);
      let end: number;
      let key: string | undefined;
      if (text[index] === '{' || text[index] === '<') {
        ({ end, key } = readMessage(text, index));
      } else if (text[index] === '"' || text[index] === "'") {
        end = skipString(text, index);
      } else {
        const scalar = /^[^\s#{}<>]+/.exec(text.slice(index))?.[0];
        if (scalar === undefined) throw new UsersFileError(`a field without a value at offset ${fieldStart}`);
        end = index + scalar.length;
      }
      if (field === 'users') {
        if (key === undefined) throw new UsersFileError(`a users entry without a key at offset ${fieldStart}`);
        if (fieldStart > textStart) segments.push({ kind: 'text', text: text.slice(textStart, fieldStart) });
        segments.push({ kind: 'user', key: Buffer.from(key, 'latin1').toString('utf8'), text: text.slice(fieldStart, end) });
        textStart = end;
      }
      index = end;
    }
    if (textStart < text.length) segments.push({ kind: 'text', text: text.slice(textStart) });
    return new UsersFile(segments);
  }

  /** Local parts of the senders, sorted and de-duplicated. */
  keys(): string[] {
    return [...new Set(this.#segments.flatMap((segment) => (segment.kind === 'user' ? [segment.key] : [])))].sort();
  }

  has(key: string): boolean {
    return this.#segments.some((segment) => segment.kind === 'user' && segment.key === key);
  }

  /** Replaces the sender's entry where it stands (dropping any duplicates of it), or appends it. */
  set(key: string, entry: string): void {
    const first = this.#segments.findIndex((segment) => segment.kind === 'user' && segment.key === key);
    if (first === -1) {
      const last = this.#segments.at(-1);
      if (last && !last.text.endsWith('\n')) this.#segments.push({ kind: 'text', text: '\n' });
      this.#segments.push({ kind: 'user', key, text: entry }, { kind: 'text', text: '\n' });
      return;
    }
    this.#segments[first] = { kind: 'user', key, text: entry };
    this.#removeFrom(key, first + 1);
  }

  /** Removes every entry of the sender; false when there was none. */
  remove(key: string): boolean {
    const had = this.has(key);
    this.#removeFrom(key, 0);
    return had;
  }

  #removeFrom(key: string, start: number): void {
    for (let index = this.#segments.length - 1; index >= start; index -= 1) {
      const segment = this.#segments[index];
      if (segment?.kind !== 'user' || segment.key !== key) continue;
      this.#segments.splice(index, 1);
      // Take the line break that followed the entry with it, so no blank lines pile up.
      const next = this.#segments[index];
      if (next?.kind === 'text' && next.text.startsWith('\n')) next.text = next.text.slice(1);
    }
  }

  toBuffer(): Buffer {
    return Buffer.from(this.#segments.map((segment) => segment.text).join(''), 'latin1');
  }
}

/** A complete `users` entry for `key` with a fresh salt and the scrypt hash of `password`, in chasquid's layout. */
export async function hashedUserEntry(key: string, password: string): Promise<string> {
  const { logN, r, p, keyLength, saltLength } = scryptParameters;
  const salt = randomBytes(saltLength);
  const encrypted = await scrypt(password, salt, keyLength, { N: 2 ** logN, r, p, maxmem: 64 * 1024 * 1024 });
  return [
    'users: {',
    `  key: ${encodeString(Buffer.from(key, 'utf8').toString('latin1'))}`,
    '  value: {',
    '    scrypt: {',
    `      logN: ${logN}`,
    `      r: ${r}`,
    `      p: ${p}`,
    `      keyLen: ${keyLength}`,
    `      salt: ${encodeString(salt.toString('latin1'))}`,
    `      encrypted: ${encodeString(encrypted.toString('latin1'))}`,
    '    }',
    '  }',
    '}',
  ].join('\n');
}

/** Parses the file or fails with an operator-facing error that leaves the file alone. */
export function readUsersFile(content: Buffer | undefined, file: string): UsersFile {
  try {
    return UsersFile.parse(content);
  } catch (error) {
    throw failedError(
      'users-file-unreadable',
      `The users file ${file} cannot be read safely (${(error as Error).message}); mailops left it unchanged.`,
      {
        hint: 'Check it with "chasquid-util check-userdb <domain>" on the host and repair it by hand (a backup may be in .mailops-backup/).',
      }
    );
  }
}
