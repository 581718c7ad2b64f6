import packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { buildUpdate } from './update-message.ts';

describe('RFC 2136 UPDATE messages', () => {
  it('carry MX, A, AAAA and TXT records that a DNS library reads back as sent', () => {
    const message = buildUpdate(
      'example.test',
      [
        { action: 'add', record: { name: 'example.test', type: 'MX', value: '10 mail.example.test.', ttl: 3600 } },
        { action: 'add', record: { name: 'mail.example.test', type: 'A', value: '192.0.2.25', ttl: 3600 } },
        { action: 'add', record: { name: 'mail.example.test', type: 'AAAA', value: '2001:db8::25', ttl: 3600 } },
        { action: 'add', record: { name: 'example.test', value: 'v=spf1 mx -all', ttl: 3600 } },
      ],
      7
    );
    const decoded = packet.decode(message);
    expect(
      decoded.authorities?.map((record) => {
        const { name, type, ttl, data } = record as { name: string; type: string; ttl: number; data: unknown };
        return [name, type, ttl, data];
      })
    ).toEqual([
      ['example.test', 'MX', 3600, { preference: 10, exchange: 'mail.example.test' }],
      ['mail.example.test', 'A', 3600, '192.0.2.25'],
      ['mail.example.test', 'AAAA', 3600, '2001:db8::25'],
      ['example.test', 'TXT', 3600, [Buffer.from('v=spf1 mx -all')]],
    ]);
  });

  it('carries CAA records in RFC 8659 form: flags, tag length, tag, value', () => {
    const value = '0 issue "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1"';
    const message = buildUpdate('example.test', [{ action: 'add', record: { name: 'example.test', type: 'CAA', value, ttl: 3600 } }], 7);
    const decoded = packet.decode(message).authorities?.[0] as { type: string; data: { flags: number; tag: string; value: string } };
    expect([decoded.type, decoded.data.flags, decoded.data.tag, decoded.data.value]).toEqual([
      'CAA',
      0,
      'issue',
      'letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1',
    ]);
    const tail = Buffer.from('\x00\x05issueletsencrypt.org', 'latin1');
    const short = buildUpdate(
      'example.test',
      [{ action: 'add', record: { name: 'example.test', type: 'CAA', value: '0 issue "letsencrypt.org"', ttl: 60 } }],
      1
    );
    expect(short.subarray(short.length - tail.length)).toEqual(tail);
    expect(short.readUInt16BE(short.length - tail.length - 2)).toBe(tail.length);
  });

  it('refuses a CAA value that is not flags, tag and a quoted value', () => {
    expect(() =>
      buildUpdate(
        'example.test',
        [{ action: 'add', record: { name: 'example.test', type: 'CAA', value: 'issue letsencrypt.org', ttl: 60 } }],
        1
      )
    ).toThrow(/is not a CAA value/);
  });

  it('refuses an MX value that is not "preference exchange"', () => {
    expect(() =>
      buildUpdate(
        'example.test',
        [{ action: 'add', record: { name: 'example.test', type: 'MX', value: 'mail.example.test.', ttl: 60 } }],
        1
      )
    ).toThrow(/is not an MX value/);
  });
});
