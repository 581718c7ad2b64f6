import { describe, expect, it } from 'vitest';
import { acceptedState, findDrift, mxValue, observe, recordKey, txtValue, withFirstSeen, type Invariant, type ObservedRecord } from './drift.ts';

const dmarc = (values: string[]): ObservedRecord => ({ name: '_dmarc.example.com', type: 'TXT', values });
const holds = (name: string, type: Invariant['type'], ok: boolean, expected: string[] = ['x']): Invariant => ({ name, type, holds: ok, expected, reason: `${name} is wrong` });

describe('findDrift', () => {
  it('finds nothing when the answers are the accepted ones and the invariants hold', () => {
    const observed = [dmarc(['v=DMARC1; p=reject'])];
    expect(findDrift(observed, acceptedState(observed), [holds('_dmarc.example.com', 'TXT', true)])).toEqual([]);
  });

  it('reports a changed record with the accepted values as expected', () => {
    const accepted = { [recordKey('_dmarc.example.com', 'TXT')]: ['v=DMARC1; p=reject'] };
    expect(findDrift([dmarc(['v=DMARC1; p=none'])], accepted, [])).toEqual([
      { name: '_dmarc.example.com', type: 'TXT', expected: ['v=DMARC1; p=reject'], actual: ['v=DMARC1; p=none'], reason: 'differs from the accepted state' },
    ]);
  });

  it('compares sets: order and duplicates do not matter', () => {
    const accepted = { [recordKey('example.com', 'MX')]: ['10 a.example.com.', '20 b.example.com.'] };
    const observed: ObservedRecord = { name: 'example.com', type: 'MX', values: ['20 b.example.com.', '10 a.example.com.', '10 a.example.com.'] };
    expect(findDrift([observed], accepted, [])).toEqual([]);
  });

  it('reports a broken invariant even when the answer is the accepted one', () => {
    const observed = [dmarc([])];
    const drift = findDrift(observed, acceptedState(observed), [holds('_dmarc.example.com', 'TXT', false, ['v=DMARC1; p=quarantine'])]);
    expect(drift).toEqual([{ name: '_dmarc.example.com', type: 'TXT', expected: ['v=DMARC1; p=quarantine'], actual: [], reason: '_dmarc.example.com is wrong' }]);
  });

  it('does not judge a record whose lookup failed', () => {
    const accepted = { [recordKey('_dmarc.example.com', 'TXT')]: ['v=DMARC1; p=reject'] };
    const failed: ObservedRecord = { name: '_dmarc.example.com', type: 'TXT', values: undefined, error: 'timed out' };
    expect(findDrift([failed], accepted, [holds('_dmarc.example.com', 'TXT', false)])).toEqual([]);
  });
});

describe('accepted state', () => {
  it('records a record the first time it is seen, and keeps what was accepted before', () => {
    const accepted = { [recordKey('_dmarc.example.com', 'TXT')]: ['v=DMARC1; p=reject'] };
    const observed: ObservedRecord[] = [dmarc(['v=DMARC1; p=none']), { name: 's1._domainkey.example.com', type: 'TXT', values: ['v=DKIM1; p=abc'] }];
    const { records, added } = withFirstSeen(accepted, observed);
    expect(added).toBe(1);
    expect(records).toEqual({ ...accepted, 's1._domainkey.example.com TXT': ['v=DKIM1; p=abc'] });
  });
});

describe('observe', () => {
  it('normalises answers: MX with a trailing dot and lower case, TXT joined, empty answers as none', () => {
    expect(observe('example.com', 'MX', { status: 'ok', records: [{ priority: 10, exchange: 'Mail.Example.COM' }] }, mxValue).values).toEqual(['10 mail.example.com.']);
    expect(observe('example.com', 'TXT', { status: 'ok', records: [['v=spf1 ', 'mx -all'], ['other']] }, txtValue, (value) => value.startsWith('v=spf1')).values).toEqual(['v=spf1 mx -all']);
    expect(observe('example.com', 'TXT', { status: 'nxdomain' }, txtValue).values).toEqual([]);
    expect(observe('example.com', 'TXT', { status: 'temperror', code: 'ETIMEOUT', message: 'timed out' }, txtValue)).toMatchObject({ values: undefined, error: 'timed out' });
  });
});
