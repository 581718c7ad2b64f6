// Sender passwords: generated ones, and the rules for ones a person chooses.
//
// Generated passwords are 24 characters drawn uniformly (crypto.randomInt, a CSPRNG, no modulo bias) from a 57-letter
// alphabet without look-alikes (no 0/O, 1/l/I): about 140 bits, easy to read out and to type on a phone.
// A chosen password must be 12 to 256 printable characters, not a well-known password, not mostly one character,
// and not the address itself — the SMTP AUTH password of a mail server is a prize for spammers.

import { randomInt } from 'node:crypto';
import { usageError } from '../errors.ts';

const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
export const generatedLength = 24;
export const minimumLength = 12;
const maximumLength = 256;

// A small deny list: the most common passwords that are long enough to pass the length rule.
const wellKnown = new Set([
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'qwertyuiopasdf',
  'qwertyuiop123',
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456123456',
  '111111111111',
  '000000000000',
  'abcdefghijkl',
  'abc123abc123',
  'iloveyou1234',
  'changeme1234',
  'letmein12345',
  'welcome12345',
  'administrator',
  'mailpassword',
  'postmaster123',
  'correcthorsebatterystaple',
  'trustno1trustno1',
  'qwerty123456',
  '1q2w3e4r5t6y',
  'zaq12wsxcde3',
  'passw0rd1234',
]);

export function generatePassword(): string {
  let password = '';
  for (let index = 0; index < generatedLength; index += 1) password += alphabet.charAt(randomInt(alphabet.length));
  return password;
}

/** Refuses a weak or malformed password with a message that never repeats it. */
export function checkChosenPassword(password: string, address: string): void {
  const refuse = (why: string) => {
    throw usageError(
      'weak-password',
      `The password given is not acceptable: ${why}.`,
      `Choose at least ${minimumLength} characters that are not a common password, or leave the password out to get a generated one.`
    );
  };
  if (/[\u0000-\u001f\u007f]/u.test(password)) refuse('it contains control characters (only one line is read)');
  if (password.length < minimumLength) refuse(`it is shorter than ${minimumLength} characters`);
  if (password.length > maximumLength) refuse(`it is longer than ${maximumLength} characters`);
  const lower = password.toLowerCase();
  if (wellKnown.has(lower)) refuse('it is a well-known password');
  const local = address.split('@')[0]?.toLowerCase() ?? '';
  if (lower.includes(address.toLowerCase()) || (local.length >= 4 && lower.includes(local))) refuse('it contains the address');
  const counts = new Map<string, number>();
  for (const character of password) counts.set(character, (counts.get(character) ?? 0) + 1);
  if (counts.size < 5) refuse('it uses fewer than 5 different characters');
}
