import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hostileArguments } from '../../test/hostile-arguments.ts';
import { commandLine, shellQuote, UnsafeArgumentError } from './quote.ts';

function roundTrip(shell: string, args: string[]): string[] {
  const script = `printf '%s\\0' ${args.map(shellQuote).join(' ')}`;
  const output = execFileSync(shell, ['-c', script], { encoding: 'utf8' });
  return output.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  for (const shell of ['/bin/sh', '/bin/bash', '/bin/dash']) {
    it(`makes every hostile argument arrive literally through ${shell}`, () => {
      expect(roundTrip(shell, hostileArguments)).toEqual(hostileArguments);
    });
  }

  it('keeps one argument one argument', () => {
    expect(roundTrip('/bin/sh', ['a b', 'c'])).toHaveLength(2);
  });
});

describe('commandLine', () => {
  it('quotes every element, the program included', () => {
    expect(commandLine(['chasquid-util', 'user-add', "o'brien@example.com"])).toBe(`'chasquid-util' 'user-add' 'o'\\''brien@example.com'`);
  });

  it('refuses a NUL byte, which a command line cannot carry', () => {
    expect(() => commandLine(['echo', 'a\0b'])).toThrow(UnsafeArgumentError);
  });

  it('refuses an empty argument vector', () => {
    expect(() => commandLine([])).toThrow();
  });
});
