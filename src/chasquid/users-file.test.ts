import { execFileSync } from 'node:child_process';
import { scryptSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labCache } from '../../test/lab/lab.ts';
import { decodeString, encodeString, hashedUserEntry, UsersFile, UsersFileError } from './users-file.ts';

const utilities = {
  '1.11': '/usr/bin/chasquid-util',
  '1.15': path.join(labCache, 'chasquid-1.15/usr/bin/chasquid-util'),
};

/** A users file written by the real chasquid-util (through a pseudo-terminal, as it insists). */
function chasquidUsersFile(build: keyof typeof utilities, users: Array<[string, string]>): Buffer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-userdb-'));
  mkdirSync(path.join(dir, 'domains/example.com'), { recursive: true });
  writeFileSync(path.join(dir, 'chasquid.conf'), '');
  for (const [user, password] of users) {
    execFileSync('script', ['-qc', `${utilities[build]} -C=${dir} user-add ${user}@example.com`, '/dev/null'], {
      input: `${password}\n${password}\n`,
    });
  }
  return readFileSync(path.join(dir, 'domains/example.com/users'));
}

/** The salt and hash of one user, decoded by our parser, checked against scrypt with chasquid's parameters. */
function matches(file: Buffer, user: string, password: string): boolean {
  const text = file.toString('latin1');
  const block = text.slice(text.indexOf(`key: "${user}"`));
  const salt = decodeString(/salt: ("(?:[^"\\]|\\.)*")/s.exec(block)?.[1] ?? '""');
  const encrypted = decodeString(/encrypted: ("(?:[^"\\]|\\.)*")/s.exec(block)?.[1] ?? '""');
  const derived = scryptSync(password, Buffer.from(salt, 'latin1'), 32, { N: 16384, r: 8, p: 1 });
  return derived.equals(Buffer.from(encrypted, 'latin1'));
}

describe.each(['1.11', '1.15'] as const)('users files written by chasquid-util %s', (build) => {
  // Six random salts and hashes per build: enough to meet raw bytes, \x, octal and \u escapes.
  const file = chasquidUsersFile(build, [
    ['alice', 'alice-password-1'],
    ['bob', 'bob-password-22'],
    ['carol', 'carol-password-333'],
    ['dan', 'dan-password-4444'],
    ['eve', 'eve-password-55555'],
    ['fay', 'fay-password-666666'],
  ]);

  it('are read: every sender, and every salt and hash byte for byte', () => {
    const users = UsersFile.parse(file);
    expect(users.keys()).toEqual(['alice', 'bob', 'carol', 'dan', 'eve', 'fay']);
    for (const [user, password] of [
      ['dan', 'dan-password-4444'],
      ['eve', 'eve-password-55555'],
      ['fay', 'fay-password-666666'],
    ] as const) {
      expect(matches(file, user, password)).toBe(true);
    }
    expect(matches(file, 'alice', 'alice-password-1')).toBe(true);
    expect(matches(file, 'carol', 'carol-password-333')).toBe(true);
    expect(matches(file, 'carol', 'wrong')).toBe(false);
  });

  it('come back byte-identical when nothing changed', () => {
    expect(UsersFile.parse(file).toBuffer().equals(file)).toBe(true);
  });

  it('keep the other senders byte for byte when one is replaced or removed', async () => {
    const users = UsersFile.parse(file);
    users.set('bob', await hashedUserEntry('bob', 'a new password for bob'));
    const changed = users.toBuffer();
    expect(matches(changed, 'bob', 'a new password for bob')).toBe(true);
    expect(matches(changed, 'alice', 'alice-password-1')).toBe(true);
    const original = file.toString('latin1');
    const aliceBlock = original.slice(original.indexOf('users: {'), original.indexOf('users: {', 1));
    expect(changed.toString('latin1')).toContain(aliceBlock);
    const removed = UsersFile.parse(changed);
    expect(removed.remove('alice')).toBe(true);
    expect(UsersFile.parse(removed.toBuffer()).keys()).toEqual(['bob', 'carol', 'dan', 'eve', 'fay']);
  });
});

describe('our users entries', () => {
  it("hash with chasquid's scrypt parameters and a fresh salt each time", async () => {
    const first = await hashedUserEntry('dave', 'password-for-dave');
    const second = await hashedUserEntry('dave', 'password-for-dave');
    expect(first).not.toBe(second);
    const file = Buffer.from(first, 'latin1');
    expect(matches(file, 'dave', 'password-for-dave')).toBe(true);
    expect(first).toMatch(/logN: 14\n\s+r: 8\n\s+p: 1\n\s+keyLen: 32/);
  });

  it('are accepted by chasquid-util check-userdb', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-userdb-'));
    mkdirSync(path.join(dir, 'domains/example.com'), { recursive: true });
    writeFileSync(path.join(dir, 'chasquid.conf'), '');
    const users = UsersFile.parse(undefined);
    users.set('erin', await hashedUserEntry('erin', 'password-for-erin'));
    writeFileSync(path.join(dir, 'domains/example.com/users'), users.toBuffer());
    for (const utility of Object.values(utilities)) {
      expect(execFileSync(utility, [`-C=${dir}`, 'check-userdb', 'example.com'], { encoding: 'utf8' })).toContain('Database loaded');
    }
  });
});

describe('the text format', () => {
  it('round-trips every byte through its escapes', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, index) => index)).toString('latin1');
    expect(decodeString(encodeString(bytes))).toBe(bytes);
  });

  it('reads hex, octal, Unicode, simple escapes and raw bytes', () => {
    expect(Buffer.from(decodeString('"\\x04\\xd0B\\303\\n\\"q\\\\"'), 'latin1')).toEqual(
      Buffer.from([0x04, 0xd0, 0x42, 0xc3, 0x0a, 0x22, 0x71, 0x5c])
    );
    expect(Buffer.from(decodeString('"\\u02b1\\U0001F600"'), 'latin1')).toEqual(Buffer.from('\u02b1\u{1F600}', 'utf8'));
  });

  it('keeps comments, unknown fields and odd spacing between entries', async () => {
    const text =
      '# senders of example.com\nusers {\n  key: "a"\n  value < plain: { password: "x" } >\n}\n\n# receive only\nusers: { key: \'r\' value: { denied: {} } }\nfuture_field: 7\n';
    const users = UsersFile.parse(Buffer.from(text, 'latin1'));
    expect(users.keys()).toEqual(['a', 'r']);
    users.set('b', await hashedUserEntry('b', 'password-of-b'));
    const out = users.toBuffer().toString('latin1');
    expect(out.startsWith(text)).toBe(true);
    expect(UsersFile.parse(Buffer.from(out, 'latin1')).keys()).toEqual(['a', 'b', 'r']);
  });

  it('replaces a duplicated sender once, where it first stood', async () => {
    const users = UsersFile.parse(
      Buffer.from('users: { key: "a" value: {} }\nusers: { key: "b" value: {} }\nusers: { key: "a" value: {} }\n', 'latin1')
    );
    users.set('a', 'users: { key: "a" value: { new: 1 } }');
    expect(users.toBuffer().toString('latin1')).toBe('users: { key: "a" value: { new: 1 } }\nusers: { key: "b" value: {} }\n');
  });

  it.each([
    ['an unterminated entry', 'users: { key: "a"\n'],
    ['an entry without a key', 'users: { value: {} }\n'],
    ['an unterminated string', 'users: { key: "a }\n'],
    ['unbalanced braces', 'users: { key: "a" value: { }> }\n'],
    ['stray text', 'users: { key: "a" } }\n'],
  ])('refuses %s rather than rewrite it', (_name, text) => {
    expect(() => UsersFile.parse(Buffer.from(text, 'latin1'))).toThrow(UsersFileError);
  });
});
