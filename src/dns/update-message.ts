// RFC 2136 dynamic UPDATE messages for TXT records, in DNS wire format.
//
// An UPDATE reuses the message sections: the question section names the zone (SOA, IN), the answer section holds
// prerequisites (we use none) and the authority section holds the changes:
//   add a value       — class IN, the record's TTL, the value's character-strings;
//   delete one value  — class NONE, TTL 0, the same character-strings (other values at the name stay).
// dns-packet has no class NONE, so records are encoded here from its name and TXT codecs.

import { usageError } from '../errors.ts';
import { splitTxt, type TxtRecord } from './txt.ts';
import { rrClass, rrType, wire } from './wire.ts';

export type UpdateChange = { action: 'add'; record: TxtRecord } | { action: 'delete'; record: TxtRecord };

const opcodeUpdate = 5;

/** A DNS name we may put on the wire: letters, digits, `_` and `-`, labels of 1–63 bytes, at most 253 characters. */
export function checkDnsName(name: string): void {
  const labels = name.replace(/\.$/, '').split('.');
  const valid = name.length <= 253 && labels.length >= 2 && labels.every((label) => /^[a-z0-9_-]{1,63}$/i.test(label));
  if (!valid)
    throw usageError(
      'invalid-dns-name',
      `"${name.slice(0, 80)}" is not a DNS name mailops can publish a record at.`,
      'This is a bug in the caller; names are built from validated domains.'
    );
}

function encodeRecord(name: string, klass: number, ttl: number, strings: Buffer[]): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16BE(rrType.TXT, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  return Buffer.concat([wire.name.encode(name.toLowerCase()), fixed, wire.txt.encode(strings)]);
}

/** The UPDATE message (without TSIG) that applies `changes` to `zone`. */
export function buildUpdate(zone: string, changes: readonly UpdateChange[], id: number): Buffer {
  checkDnsName(zone);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(opcodeUpdate << 11, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(0, 6);
  header.writeUInt16BE(changes.length, 8);
  header.writeUInt16BE(0, 10);
  const zoneSection = Buffer.concat([wire.name.encode(zone.toLowerCase()), Buffer.from([0, rrType.SOA, 0, rrClass.IN])]);
  const updates = changes.map((change) => {
    checkDnsName(change.record.name);
    const strings = splitTxt(change.record.value);
    return change.action === 'add'
      ? encodeRecord(change.record.name, rrClass.IN, change.record.ttl, strings)
      : encodeRecord(change.record.name, rrClass.NONE, 0, strings);
  });
  return Buffer.concat([header, zoneSection, ...updates]);
}
