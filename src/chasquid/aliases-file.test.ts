import { describe, expect, it } from 'vitest';
import { aliasKey, AliasesFile, defaultAliasRules } from './aliases-file.ts';

const seed = [
  '# Aliases for example.com — kept in git',
  '',
  'postmaster: alice',
  'Sales.Team: alice@example.com, bob@gmail.com',
  'archive: | /usr/local/bin/archive-mail --quiet',
  'this line is not an alias',
  '   # an indented comment',
  '*: catchall@gmail.com',
  'postmaster: carol',
].join('\n');

describe('the aliases file', () => {
  it('reads entries as chasquid does: last duplicate wins, own domain added, keys normalised', () => {
    const file = AliasesFile.parse(`${seed}\n`, 'example.com');
    expect(file.entries()).toEqual([
      { user: 'postmaster', key: 'postmaster', targets: ['carol@example.com'], pipe: undefined },
      { user: 'Sales.Team', key: 'salesteam', targets: ['alice@example.com', 'bob@gmail.com'], pipe: undefined },
      { user: 'archive', key: 'archive', targets: [], pipe: '/usr/local/bin/archive-mail --quiet' },
      { user: '*', key: '*', targets: ['catchall@gmail.com'], pipe: undefined },
    ]);
    expect(file.invalidLines()).toEqual(['this line is not an alias']);
  });

  it('comes back byte-identical when nothing changed, final newline or not', () => {
    expect(AliasesFile.parse(`${seed}\n`, 'example.com').toString()).toBe(`${seed}\n`);
    expect(AliasesFile.parse(seed, 'example.com').toString()).toBe(seed);
  });

  it('keeps comments, order, pipe aliases and unknown lines when an alias is replaced', () => {
    const file = AliasesFile.parse(`${seed}\n`, 'example.com');
    file.set('salesteam', ['dave@example.com']);
    expect(file.toString()).toBe(`${seed.replace('Sales.Team: alice@example.com, bob@gmail.com', 'salesteam: dave@example.com')}\n`);
  });

  it('rewrites a duplicated alias in its first place and drops the later duplicates', () => {
    const file = AliasesFile.parse(`${seed}\n`, 'example.com');
    file.set('postmaster', ['erin@example.com']);
    const lines = file.toString().split('\n');
    expect(lines[2]).toBe('postmaster: erin@example.com');
    expect(lines.filter((line) => line.startsWith('postmaster'))).toHaveLength(1);
    expect(file.get('postmaster')?.targets).toEqual(['erin@example.com']);
  });

  it('appends a new alias at the end, with a line break even when the file had none', () => {
    const file = AliasesFile.parse(seed, 'example.com');
    file.set('info', ['alice@example.com']);
    expect(file.toString()).toBe(`${seed}\ninfo: alice@example.com\n`);
  });

  it('removes every line of an alias and nothing else', () => {
    const file = AliasesFile.parse(`${seed}\n`, 'example.com');
    expect(file.remove('postmaster')).toBe(true);
    expect(file.toString()).toBe(
      `${seed
        .split('\n')
        .filter((line) => !line.startsWith('postmaster'))
        .join('\n')}\n`
    );
    expect(file.remove('nobody')).toBe(false);
  });

  it('refuses to replace or remove a pipe alias', () => {
    const file = AliasesFile.parse(`${seed}\n`, 'example.com');
    expect(() => file.set('archive', ['alice@example.com'])).toThrow(/pipe alias/);
    expect(() => file.remove('archive')).toThrow(/pipe alias/);
    expect(file.toString()).toBe(`${seed}\n`);
  });

  it('keys aliases like chasquid: case folded, drop characters removed before the suffix only', () => {
    expect(aliasKey('First.Last', defaultAliasRules)).toBe('firstlast');
    expect(aliasKey('a.b+c.d', defaultAliasRules)).toBe('ab+c.d');
    expect(aliasKey('a-b', { dropCharacters: '-', suffixSeparators: '+' })).toBe('ab');
  });

  it('finds the suffix at the right place after a character outside the BMP (two UTF-16 units)', () => {
    expect(aliasKey('\u{1F600}a.+x', defaultAliasRules)).toBe('\u{1F600}a+x');
  });

  it.each(['no colon here', ': missing left', 'a@b: c', 'two words: c', 'empty:', 'pipe: |'])(
    'treats %j as a line chasquid cannot parse',
    (line) => {
      expect(AliasesFile.parse(`${line}\n`, 'example.com').invalidLines()).toEqual([line]);
    }
  );
});
