// RFC 2136 dynamic UPDATE messages for TXT records (and, for `setup`, MX, A, AAAA and CAA records), in DNS wire format.
//
// An UPDATE reuses the message sections: the question section names the zone (SOA, IN), the answer section holds
// prerequisites (we use none) and the authority section holds the changes:
//   add a value       — class IN, the record's TTL, the value's character-strings;
//   delete one value  — class NONE, TTL 0, the same character-strings (other values at the name stay).
// dns-packet has no class NONE, so records are encoded here from its name and record-data codecs.
// A record without a `type` is a TXT record; an MX value is `preference exchange.`; a CAA value is `flags tag "value"`
// as in a zone file, sent in RFC 8659's form: the flags byte, the tag's length and the tag, then the value to the end.

import { usageError } from '../errors.ts';
import { splitTxt, type TxtRecord } from './txt.ts';
import { rrClass, rrType, wire } from './wire.ts';

/** The record types an UPDATE of ours may carry. */
export type UpdateRecordType = 'TXT' | 'MX' | 'A' | 'AAAA' | 'CAA';

/** A record of an UPDATE: a TXT record, or (with `type`) an MX, A, AAAA or CAA record whose value is in zone-file form. */
export type UpdateRecord = TxtRecord & { type?: UpdateRecordType };

export type UpdateChange = { action: 'add'; record: UpdateRecord } | { action: 'delete'; record: UpdateRecord };

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

/** A CAA value in zone-file form, `0 issue "letsencrypt.org"`: its flags, tag and value (RFC 8659 section 4.1). */
export function parseCaaValue(value: string): { flags: number; tag: string; value: string } {
  const match = /^\s*([0-9]{1,3})\s+([a-z0-9]{1,15})\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(value);
  if (!match || Number(match[1]) > 255) {
    throw usageError('invalid-dns-record', `"${value}" is not a CAA value (flags tag "value").`, 'This is a bug in the caller.');
  }
  const [, flags, tag, quoted] = match as unknown as [string, string, string, string];
  return { flags: Number(flags), tag: tag.toLowerCase(), value: quoted.replace(/\\(.)/g, '$1') };
}

/** The record data, with its length in front (dns-packet's codecs write both). */
function recordData(record: UpdateRecord): Buffer {
  switch (record.type ?? 'TXT') {
    case 'TXT':
      return wire.txt.encode(splitTxt(record.value));
    case 'MX': {
      const [preference, exchange] = record.value.trim().split(/\s+/);
      if (!/^[0-9]{1,5}$/.test(preference ?? '') || exchange === undefined) {
        throw usageError(
          'invalid-dns-record',
          `"${record.value}" is not an MX value (preference exchange).`,
          'This is a bug in the caller.'
        );
      }
      checkDnsName(exchange);
      return wire.mx.encode({ preference: Number(preference), exchange: exchange.replace(/\.$/, '').toLowerCase() });
    }
    case 'A':
      return wire.a.encode(record.value);
    case 'AAAA':
      return wire.aaaa.encode(record.value);
    case 'CAA':
      return wire.caa.encode(parseCaaValue(record.value));
  }
}

function encodeRecord(record: UpdateRecord, klass: number, ttl: number): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16BE(rrType[record.type ?? 'TXT'], 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  return Buffer.concat([wire.name.encode(record.name.toLowerCase()), fixed, recordData(record)]);
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
    return change.action === 'add'
      ? encodeRecord(change.record, rrClass.IN, change.record.ttl)
      : encodeRecord(change.record, rrClass.NONE, 0);
  });
  return Buffer.concat([header, zoneSection, ...updates]);
}
