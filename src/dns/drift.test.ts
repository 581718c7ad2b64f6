import { describe, expect, it } from 'vitest';
import {
  acceptedNowSentence,
  acceptedState,
  driftAdvice,
  findDrift,
  mxValue,
  observe,
  recordKey,
  txtValue,
  withFirstSeen,
  type Invariant,
  type ObservedRecord,
} from './drift.ts';

const dmarc = (values: string[]): ObservedRecord => ({ name: '_dmarc.example.com', type: 'TXT', values });
const holds = (name: string, type: Invariant['type'], ok: boolean, expected: string[] = ['x']): Invariant => ({
  name,
  type,
  holds: ok,
  expected,
  reason: `${name} is wrong`,
});

describe('findDrift', () => {
  it('finds nothing when the answers are the accepted ones and the invariants hold', () => {
    const observed = [dmarc(['v=DMARC1; p=reject'])];
    const invariants = [holds('_dmarc.example.com', 'TXT', true)];
    expect(findDrift(observed, acceptedState(observed, invariants).records, invariants)).toEqual([]);
  });

  it('reports a changed record with the accepted values as expected', () => {
    const accepted = { [recordKey('_dmarc.example.com', 'TXT')]: ['v=DMARC1; p=reject'] };
    expect(findDrift([dmarc(['v=DMARC1; p=none'])], accepted, [])).toEqual([
      {
        name: '_dmarc.example.com',
        type: 'TXT',
        expected: ['v=DMARC1; p=reject'],
        actual: ['v=DMARC1; p=none'],
        reason: 'differs from the accepted state',
        contradiction: false,
      },
    ]);
  });

  it('compares sets: order and duplicates do not matter', () => {
    const accepted = { [recordKey('example.com', 'MX')]: ['10 a.example.com.', '20 b.example.com.'] };
    const observed: ObservedRecord = {
      name: 'example.com',
      type: 'MX',
      values: ['20 b.example.com.', '10 a.example.com.', '10 a.example.com.'],
    };
    expect(findDrift([observed], accepted, [])).toEqual([]);
  });

  it('reports a broken invariant even when the answer is the accepted one', () => {
    const observed = [dmarc([])];
    const invariants = [holds('_dmarc.example.com', 'TXT', false, ['v=DMARC1; p=quarantine'])];
    const drift = findDrift(observed, acceptedState(observed, invariants).records, invariants);
    expect(drift).toEqual([
      {
        name: '_dmarc.example.com',
        type: 'TXT',
        expected: ['v=DMARC1; p=quarantine'],
        actual: [],
        reason: '_dmarc.example.com is wrong',
        contradiction: true,
      },
    ]);
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
    const observed: ObservedRecord[] = [
      dmarc(['v=DMARC1; p=none']),
      { name: 's1._domainkey.example.com', type: 'TXT', values: ['v=DKIM1; p=abc'] },
    ];
    const { records, added } = withFirstSeen(accepted, observed, []);
    expect(added).toBe(1);
    expect(records).toEqual({ ...accepted, 's1._domainkey.example.com TXT': ['v=DKIM1; p=abc'] });
  });

  const spfKey = recordKey('example.com', 'TXT');
  const spfRecord = (value: string): ObservedRecord => ({ name: 'example.com', type: 'TXT', values: [value] });
  const right = 'v=spf1 mx -all';
  const wrong = 'v=spf1 -all';
  const notAuthorised = [holds('example.com', 'TXT', false, [right])];

  it('never records on first sight an answer that contradicts the mail host', () => {
    const { records, added } = withFirstSeen({}, [spfRecord(wrong)], notAuthorised);
    expect(added).toBe(0);
    expect(records).toEqual({});
  });

  it('--accept does not store a contradiction: the record keeps the answer accepted before, and is listed as refused', () => {
    const { records, refused } = acceptedState([spfRecord(wrong), dmarc(['v=DMARC1; p=none'])], notAuthorised, { [spfKey]: [right] });
    expect(records).toEqual({ [spfKey]: [right], [recordKey('_dmarc.example.com', 'TXT')]: ['v=DMARC1; p=none'] });
    expect(refused.map((record) => record.values)).toEqual([[wrong]]);
    expect(acceptedState([spfRecord(wrong)], notAuthorised).records).toEqual({});
  });

  it('after --accept a contradiction stays drift, and putting the right record back is no drift', () => {
    const { records } = acceptedState([spfRecord(wrong)], notAuthorised, { [spfKey]: [right] });
    expect(findDrift([spfRecord(wrong)], records, notAuthorised)).toMatchObject([
      { expected: [right], actual: [wrong], contradiction: true },
    ]);
    expect(findDrift([spfRecord(right)], records, [holds('example.com', 'TXT', true)])).toEqual([]);
  });

  it('a right record after a contradiction that was never accepted is accepted on first sight, not drift', () => {
    const { records } = acceptedState([spfRecord(wrong)], notAuthorised);
    const fixed = withFirstSeen(records, [spfRecord(right)], [holds('example.com', 'TXT', true)]);
    expect(fixed.records).toEqual({ [spfKey]: [right] });
    expect(findDrift([spfRecord(right)], fixed.records, [holds('example.com', 'TXT', true)])).toEqual([]);
  });
});

describe('what to do about drift', () => {
  const changed = {
    name: '_dmarc.example.com',
    type: 'TXT' as const,
    expected: ['a'],
    actual: ['b'],
    reason: 'differs from the accepted state',
    contradiction: false,
  };
  const contradiction = {
    name: 'example.com',
    type: 'MX' as const,
    expected: ['10 mail.example.com.'],
    actual: ['10 mx.elsewhere.test.'],
    reason: 'no MX record names the mail host',
    contradiction: true,
  };

  it('offers --accept for records that only differ from the accepted state', () => {
    expect(driftAdvice('example.com', [changed])).toBe(
      'Fix the record, or accept the current answers: mailops dns-diff example.com --accept'
    );
  });

  it('never offers --accept for a contradiction', () => {
    const advice = driftAdvice('example.com', [contradiction]);
    expect(advice).toBe('example.com MX contradicts the mail host: publish what is expected (accepting cannot change that).');
    expect(advice).not.toContain('--accept');
  });

  it('says which records accepting would help with when both kinds drift', () => {
    expect(driftAdvice('example.com', [contradiction, changed])).toBe(
      'example.com MX contradicts the mail host: publish what is expected (accepting cannot change that). ' +
        'The other record only differs from the accepted state: put back the expected answer, or accept the current one: mailops dns-diff example.com --accept'
    );
  });

  it('after --accept says which records were not accepted', () => {
    expect(acceptedNowSentence([])).toBe('The current answers are now the accepted state.');
    expect(acceptedNowSentence([contradiction])).toContain('except the record below: it contradicts the mail host and was not accepted');
  });
});

describe('observe', () => {
  it('normalises answers: MX with a trailing dot and lower case, TXT joined, empty answers as none', () => {
    expect(
      observe('example.com', 'MX', { status: 'ok', records: [{ priority: 10, exchange: 'Mail.Example.COM' }] }, mxValue).values
    ).toEqual(['10 mail.example.com.']);
    expect(
      observe('example.com', 'TXT', { status: 'ok', records: [['v=spf1 ', 'mx -all'], ['other']] }, txtValue, (value) =>
        value.startsWith('v=spf1')
      ).values
    ).toEqual(['v=spf1 mx -all']);
    expect(observe('example.com', 'TXT', { status: 'nxdomain' }, txtValue).values).toEqual([]);
    expect(observe('example.com', 'TXT', { status: 'temperror', code: 'ETIMEOUT', message: 'timed out' }, txtValue)).toMatchObject({
      values: undefined,
      error: 'timed out',
    });
  });
});
