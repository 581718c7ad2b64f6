import { describe, expect, it } from 'vitest';
import { mergedSpf } from './setup.ts';

describe('an SPF record merged with the mail host, never clobbered', () => {
  it('keeps every term of the record and inserts what it lacks before its all', () => {
    expect(mergedSpf('v=spf1 include:_spf.provider.test -all', ['mx'])).toBe('v=spf1 include:_spf.provider.test mx -all');
    expect(mergedSpf('v=spf1 include:a.test ~all', ['mx', 'ip6:2001:db8::25'])).toBe('v=spf1 include:a.test mx ip6:2001:db8::25 ~all');
  });

  it('adds nothing the record already has, and puts terms before a redirect', () => {
    expect(mergedSpf('v=spf1 MX -all', ['mx'])).toBe('v=spf1 MX -all');
    expect(mergedSpf('v=spf1 redirect=_spf.provider.test', ['mx'])).toBe('v=spf1 mx redirect=_spf.provider.test');
  });
});
