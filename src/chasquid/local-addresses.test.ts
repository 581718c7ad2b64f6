import { describe, expect, it } from 'vitest';
import { AliasesFile, defaultAliasRules } from './aliases-file.ts';
import { cleanLocal, danglingTargets, localAddressExists } from './local-addresses.ts';

const addresses = { senders: new Set(['alice', 'firstlast']), aliases: new Set(['sales', 'x+tag', '*']) };

describe('local addresses', () => {
  it('cuts the suffix and drops characters like chasquid', () => {
    expect(cleanLocal('First.Last+news', defaultAliasRules)).toBe('firstlast');
  });

  it('cuts the suffix at the right place after a character outside the BMP (two UTF-16 units)', () => {
    expect(cleanLocal('\u{1F600}ab+news', defaultAliasRules)).toBe('\u{1F600}ab');
  });

  it('finds senders and aliases the way chasquid resolves them, not the catch-all', () => {
    expect(localAddressExists('alice', addresses, defaultAliasRules)).toBe(true);
    expect(localAddressExists('alice+lists', addresses, defaultAliasRules)).toBe(true);
    expect(localAddressExists('first.last', addresses, defaultAliasRules)).toBe(true);
    expect(localAddressExists('sales', addresses, defaultAliasRules)).toBe(true);
    expect(localAddressExists('x+tag', addresses, defaultAliasRules)).toBe(true);
    expect(localAddressExists('nobody', addresses, defaultAliasRules)).toBe(false);
  });

  it('names alias targets that nothing on the host takes, in any served domain, and ignores remote ones', () => {
    const aliases = AliasesFile.parse('*: alice, bob\nsales: carol@other.org, someone@gmail.com\n', 'example.com').entries();
    const dangling = danglingTargets(
      [
        { domain: 'example.com', senders: new Set(['alice']), aliases },
        { domain: 'other.org', senders: new Set(), aliases: [] },
      ],
      defaultAliasRules
    );
    expect(dangling).toEqual([
      { alias: '*@example.com', target: 'bob@example.com' },
      { alias: 'sales@example.com', target: 'carol@other.org' },
    ]);
  });
});
