import { describe, expect, it } from 'vitest';
import { checkChosenPassword, generatedLength, generatePassword } from './password.ts';

describe('passwords', () => {
  it('are generated long, from the unambiguous alphabet, and different each time', () => {
    const passwords = Array.from({ length: 200 }, generatePassword);
    expect(new Set(passwords).size).toBe(200);
    for (const password of passwords) {
      expect(password).toHaveLength(generatedLength);
      expect(password).toMatch(/^[A-HJ-NP-Za-km-z2-9]+$/);
    }
    // Every character of the alphabet turns up: the draw is not stuck on a subset.
    expect(new Set(passwords.join('')).size).toBe(57);
  });

  it.each([
    ['too short', 'Sh0rt-pw'],
    ['well known', 'Password1234'],
    ['too few different characters', 'aaaabbbbaaaabbbb'],
    ['containing the address', 'alice-secret-2024'],
    ['with a control character', 'good-password\u0007x'],
  ])('refuses a chosen password that is %s', (_name, password) => {
    expect(() => checkChosenPassword(password, 'alice@example.com')).toThrow(/not acceptable/);
  });

  it('accepts a decent chosen password and never repeats a refused one in the message', () => {
    expect(() => checkChosenPassword('tram-violet-ocean-42', 'alice@example.com')).not.toThrow();
    try {
      checkChosenPassword('Password1234', 'alice@example.com');
    } catch (error) {
      expect((error as Error).message).not.toContain('Password1234');
    }
  });
});
