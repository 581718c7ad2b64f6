import { describe, expect, it } from 'vitest';
import { parseTxtContent } from './cloudflare.ts';
import { joinTxt, presentTxtRecord, presentTxtValue, splitTxt } from './txt.ts';

describe('TXT values', () => {
  it('splits a long value into strings of at most 255 bytes that join back to the value', () => {
    const value = `v=DKIM1; k=rsa; p=${'A'.repeat(600)}`;
    const strings = splitTxt(value);
    expect(strings.map((part) => part.length)).toEqual([255, 255, value.length - 510]);
    expect(joinTxt(strings)).toBe(value);
  });

  it('keeps a short value as one string, and an empty value as one empty string', () => {
    expect(splitTxt('v=spf1 -all').map(String)).toEqual(['v=spf1 -all']);
    expect(splitTxt('').map((part) => part.length)).toEqual([0]);
  });

  it('writes zone-file syntax with quotes and backslashes escaped', () => {
    expect(presentTxtValue('say "hi" \\ there')).toBe('"say \\"hi\\" \\\\ there"');
    expect(presentTxtRecord({ name: 'x.example.com', value: 'a', ttl: 300 })).toBe('x.example.com. 300 IN TXT "a"');
  });

  it('reads Cloudflare content back, quoted or bare', () => {
    const value = `v=DKIM1; p=${'B'.repeat(300)}`;
    expect(parseTxtContent(presentTxtValue(value))).toBe(value);
    expect(parseTxtContent('"a \\"quoted\\" word" "\\065BC"')).toBe('a "quoted" wordABC');
    expect(parseTxtContent('v=spf1 -all')).toBe('v=spf1 -all');
  });
});
