// TSIG (RFC 8945): signing a DNS message with a shared secret, and verifying the server's signed answer.
//
// Written by hand, on purpose: no maintained npm package signs TSIG, and the algorithm is small. dns-packet
// (the wire-format library) encodes and decodes names and records; this module adds exactly what it lacks:
//
//   request MAC  = HMAC(secret, message-without-TSIG ‖ variables)
//   response MAC = HMAC(secret, u16 len(request MAC) ‖ request MAC ‖ response-without-TSIG ‖ variables)
//   variables    = key name ‖ class ANY ‖ TTL 0 ‖ algorithm name ‖ time signed (u48) ‖ fudge ‖ error ‖ other len ‖ other
//
// "without TSIG" means the message as it was before the TSIG record was appended: ARCOUNT one lower and, for a
// response, the ID set back to the TSIG record's Original ID. Names enter the MAC in canonical form (lower case,
// uncompressed). The signed time must be within `fudge` seconds of our clock, in both directions.
// Supported algorithms: hmac-sha256, hmac-sha384, hmac-sha512 (RFC 8945 §6 makes SHA-256 mandatory; MD5 and SHA-1
// are not offered).

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TsigKey } from '../config.ts';
import { wire as packet } from './wire.ts';

export type { TsigKey } from '../config.ts';

const typeTsig = 250;
const classAny = 255;
/** Seconds of clock difference tolerated between us and the server (RFC 8945 recommends 300). */
export const defaultFudge = 300;

const digests: Record<TsigKey['algorithm'], { hash: string; bytes: number }> = {
  'hmac-sha256': { hash: 'sha256', bytes: 32 },
  'hmac-sha384': { hash: 'sha384', bytes: 48 },
  'hmac-sha512': { hash: 'sha512', bytes: 64 },
};

/** TSIG error codes (RFC 8945 §5.3, IANA), as servers return them in the TSIG record of a refusal. */
export const tsigErrors: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

function wireName(name: string): Buffer {
  return packet.name.encode(name.toLowerCase());
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function u48(value: number): Buffer {
  const buffer = Buffer.alloc(6);
  buffer.writeUIntBE(value, 0, 6);
  return buffer;
}

interface TsigFields {
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

function variables(keyName: string, fields: TsigFields): Buffer {
  return Buffer.concat([
    wireName(keyName),
    u16(classAny),
    Buffer.alloc(4),
    wireName(fields.algorithm),
    u48(fields.timeSigned),
    u16(fields.fudge),
    u16(fields.error),
    u16(fields.other.length),
    fields.other,
  ]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const mac = createHmac(digests[key.algorithm].hash, key.secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

function encodeTsigRecord(keyName: string, fields: TsigFields): Buffer {
  const rdata = Buffer.concat([
    wireName(fields.algorithm),
    u48(fields.timeSigned),
    u16(fields.fudge),
    u16(fields.mac.length),
    fields.mac,
    u16(fields.originalId),
    u16(fields.error),
    u16(fields.other.length),
    fields.other,
  ]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(typeTsig, 0);
  fixed.writeUInt16BE(classAny, 2);
  fixed.writeUInt32BE(0, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([wireName(keyName), fixed, rdata]);
}

export interface SignedMessage {
  /** The message with the TSIG record appended (ARCOUNT incremented). */
  message: Buffer;
  /** The request MAC, which the server's answer is signed over. */
  mac: Buffer;
}

/** Appends a TSIG record to a complete DNS message (header included). */
export function signMessage(message: Buffer, key: TsigKey, options: { now: Date; fudge?: number }): SignedMessage {
  const fields: TsigFields = {
    algorithm: key.algorithm,
    timeSigned: Math.floor(options.now.getTime() / 1000),
    fudge: options.fudge ?? defaultFudge,
    mac: Buffer.alloc(0),
    originalId: message.readUInt16BE(0),
    error: 0,
    other: Buffer.alloc(0),
  };
  fields.mac = hmac(key, [message, variables(key.name, fields)]);
  const signed = Buffer.concat([message, encodeTsigRecord(key.name, fields)]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: signed, mac: fields.mac };
}

/** Where the last record of the additional section starts, with its owner name and type; undefined when none. */
function lastAdditional(
  message: Buffer
): { offset: number; name: string; type: number; rdataOffset: number; rdataLength: number } | undefined {
  const counts = [4, 6, 8, 10].map((at) => message.readUInt16BE(at)) as [number, number, number, number];
  if (counts[3] === 0) return undefined;
  let offset = 12;
  for (let index = 0; index < counts[0]; index += 1) {
    packet.question.decode(message, offset);
    offset += packet.question.decode.bytes;
  }
  const records = counts[1] + counts[2] + counts[3];
  for (let index = 0; index < records; index += 1) {
    const start = offset;
    const name = packet.name.decode(message, offset);
    offset += packet.name.decode.bytes;
    const type = message.readUInt16BE(offset);
    const rdataLength = message.readUInt16BE(offset + 8);
    const rdataOffset = offset + 10;
    offset = rdataOffset + rdataLength;
    if (offset > message.length) throw new Error('The DNS message is truncated.');
    if (index === records - 1) return { offset: start, name, type, rdataOffset, rdataLength };
  }
  return undefined;
}

function parseTsigRdata(message: Buffer, offset: number): TsigFields {
  const algorithm = packet.name.decode(message, offset);
  let at = offset + packet.name.decode.bytes;
  const timeSigned = message.readUIntBE(at, 6);
  const fudge = message.readUInt16BE(at + 6);
  const macSize = message.readUInt16BE(at + 8);
  at += 10;
  const mac = Buffer.from(message.subarray(at, at + macSize));
  at += macSize;
  const originalId = message.readUInt16BE(at);
  const error = message.readUInt16BE(at + 2);
  const otherLength = message.readUInt16BE(at + 4);
  const other = Buffer.from(message.subarray(at + 6, at + 6 + otherLength));
  return { algorithm, timeSigned, fudge, mac, originalId, error, other };
}

export type TsigVerdict =
  | { status: 'verified' }
  /** The answer carries no TSIG record at all. */
  | { status: 'unsigned' }
  /** The server reports a TSIG error (BADSIG, BADKEY, BADTIME, BADTRUNC): it did not accept our signature. */
  | { status: 'server-error'; error: number; errorName: string }
  /** The answer is signed, but not by our key, or the MAC or time does not verify: do not trust it. */
  | { status: 'invalid'; reason: string };

/** Checks the TSIG record of a server's answer to a request we signed with `requestMac`. */
export function verifyResponse(response: Buffer, key: TsigKey, requestMac: Buffer, options: { now: Date }): TsigVerdict {
  const last = lastAdditional(response);
  if (!last || last.type !== typeTsig) return { status: 'unsigned' };
  const fields = parseTsigRdata(response, last.rdataOffset);
  if (fields.error !== 0 && fields.mac.length === 0) {
    return { status: 'server-error', error: fields.error, errorName: tsigErrors[fields.error] ?? `TSIG error ${fields.error}` };
  }
  if (last.name.toLowerCase() !== key.name.replace(/\.$/, '') || fields.algorithm.toLowerCase() !== key.algorithm) {
    return { status: 'invalid', reason: `it is signed with key "${last.name}" (${fields.algorithm}), not ours` };
  }
  const full = digests[key.algorithm].bytes;
  // RFC 8945 §5.2.2.1: a truncated MAC must keep at least half of the digest and at least 10 bytes.
  if (fields.mac.length > full || fields.mac.length < Math.max(10, full / 2)) {
    return { status: 'invalid', reason: `its MAC has an unacceptable length (${fields.mac.length} bytes)` };
  }
  const unsigned = Buffer.from(response.subarray(0, last.offset));
  unsigned.writeUInt16BE(fields.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = hmac(key, [u16(requestMac.length), requestMac, unsigned, variables(key.name, fields)]).subarray(0, fields.mac.length);
  if (!timingSafeEqual(expected, fields.mac)) return { status: 'invalid', reason: 'its MAC does not verify with our key' };
  if (Math.abs(Math.floor(options.now.getTime() / 1000) - fields.timeSigned) > fields.fudge) {
    return { status: 'invalid', reason: `its signing time differs from our clock by more than ${fields.fudge} s` };
  }
  if (fields.error !== 0) {
    return { status: 'server-error', error: fields.error, errorName: tsigErrors[fields.error] ?? `TSIG error ${fields.error}` };
  }
  return { status: 'verified' };
}

/**
 * The MAC a request carries, recomputed from the request itself: true when the request is signed with `key`.
 * Used by tests to check our MAC computation against a request signed by another implementation (Knot's knsupdate).
 */
export function verifyRequest(request: Buffer, key: TsigKey): boolean {
  const last = lastAdditional(request);
  if (!last || last.type !== typeTsig) return false;
  const fields = parseTsigRdata(request, last.rdataOffset);
  const unsigned = Buffer.from(request.subarray(0, last.offset));
  unsigned.writeUInt16BE(fields.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = hmac(key, [unsigned, variables(last.name, { ...fields, mac: Buffer.alloc(0) })]);
  return expected.length === fields.mac.length && timingSafeEqual(expected, fields.mac);
}
