// known_hosts, as OpenSSH writes and reads it (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT").
//
// A line is `[marker] hostpatterns keytype base64-key [comment]`. Host patterns are comma-separated names, `*` and
// `?` wildcards and `!` negations, or one hashed entry `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. A host on a
// port other than 22 is written `[host]:port`. The marker `@revoked` makes a key unacceptable for every host;
// `@cert-authority` lines describe certificate authorities, which mailops does not use, so they never vouch for a key.
// Blank lines and `#` comments are ignored; so are lines we cannot read (OpenSSH skips them too).
// Written by hand: no maintained npm package reads known_hosts, and the format is small.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface KnownHostEntry {
  marker: 'revoked' | 'cert-authority' | undefined;
  patterns: string;
  keyType: string;
  key: Buffer;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    } else if (fields[0]?.startsWith('@')) {
      continue;
    }
    const [patterns, keyType, keyText] = fields;
    if (patterns === undefined || keyType === undefined || keyText === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(keyText)) continue;
    const key = Buffer.from(keyText, 'base64');
    if (keyTypeOf(key) !== keyType) continue;
    entries.push({ marker, patterns, keyType, key });
  }
  return entries;
}

/** The name OpenSSH looks up for a host and port: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
    'i'
  );
  return regex.test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, magic, salt, hash] = pattern.split('|');
  if (magic !== '1' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether the patterns field of a line names this host (negations win, as in OpenSSH). */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** The key type named inside an SSH public key blob (its first string field). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** The fingerprint OpenSSH shows for a key: `SHA256:` and unpadded base64. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyVerdict =
  { status: 'trusted' } | { status: 'revoked' } | { status: 'changed'; knownFingerprints: string[] } | { status: 'unknown' };

/** Decides whether the key a server offered is the one known for this host. */
export function verifyHostKey(entries: readonly KnownHostEntry[], name: string, offered: Buffer): HostKeyVerdict {
  if (entries.some((entry) => entry.marker === 'revoked' && entry.key.equals(offered))) return { status: 'revoked' };
  const forHost = entries.filter((entry) => entry.marker === undefined && patternsMatch(entry.patterns, name));
  if (forHost.some((entry) => entry.key.equals(offered))) return { status: 'trusted' };
  if (forHost.length > 0)
    return { status: 'changed', knownFingerprints: forHost.map((entry) => `${entry.keyType} ${fingerprint(entry.key)}`) };
  return { status: 'unknown' };
}

/** Host key algorithms to offer the server, in the order of the keys we know, so it shows us a key we can check. */
export function hostKeyAlgorithms(entries: readonly KnownHostEntry[], name: string): string[] {
  const algorithms: string[] = [];
  for (const entry of entries) {
    if (entry.marker !== undefined || !patternsMatch(entry.patterns, name)) continue;
    const names = entry.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [entry.keyType];
    for (const algorithm of names) if (!algorithms.includes(algorithm)) algorithms.push(algorithm);
  }
  return algorithms;
}
