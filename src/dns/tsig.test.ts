import packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import type { TsigKey } from '../config.ts';
import { signMessage, verifyRequest, verifyResponse } from './tsig.ts';
import { buildUpdate } from './update-message.ts';

const key: TsigKey = { algorithm: 'hmac-sha512', name: 'mailops-key', secret: Buffer.alloc(64, 3) };
const now = new Date('2026-01-02T03:04:05Z');

describe('TSIG signing', () => {
  const update = buildUpdate(
    'example.com',
    [{ action: 'add', record: { name: 'sel._domainkey.example.com', value: 'v=DKIM1; p=abc', ttl: 300 } }],
    4242
  );

  it('appends one TSIG record, named after the key, with a full-length MAC and the time signed', () => {
    const signed = signMessage(update, key, { now });
    const decoded = packet.decode(signed.message) as packet.DecodedPacket & { opcode: string };
    expect(decoded.opcode).toBe('UPDATE');
    expect(decoded.additionals).toHaveLength(1);
    expect(decoded.additionals?.[0]).toMatchObject({ name: 'mailops-key', type: 'TSIG', class: 'ANY', ttl: 0 });
    expect(signed.mac).toHaveLength(64);
    expect(verifyRequest(signed.message, key)).toBe(true);
  });

  it('a changed byte, or another secret, no longer verifies', () => {
    const signed = signMessage(update, key, { now });
    const tampered = Buffer.from(signed.message);
    tampered[30] = (tampered[30] ?? 0) ^ 1;
    expect(verifyRequest(tampered, key)).toBe(false);
    expect(verifyRequest(signed.message, { ...key, secret: Buffer.alloc(64, 4) })).toBe(false);
  });

  it('calls an answer without a TSIG record unsigned', () => {
    const answer = Buffer.from(update);
    answer.writeUInt16BE(answer.readUInt16BE(2) | 0x8000, 2);
    expect(verifyResponse(answer, key, Buffer.alloc(64), { now })).toEqual({ status: 'unsigned' });
  });
});
