// TXT record values: one logical value (a DKIM key, an ACME token) carried as DNS character-strings.
//
// A character-string holds at most 255 bytes (RFC 1035 §3.3), so a longer value — any RSA DKIM key of 2048 bits or
// more — is published as several strings in one record, which readers concatenate without separators (RFC 7208
// §3.3, RFC 6376 §3.6.2.2). We split on byte boundaries of the UTF-8 form; the values we publish are ASCII.

/** The most bytes one character-string may hold. */
export const maxStringBytes = 255;

/** A TXT record mailops publishes or removes: an owner name, the logical value, and a TTL. */
export interface TxtRecord {
  /** Fully qualified, lower case, without the trailing dot: `_acme-challenge.example.com`. */
  name: string;
  /** The whole value; split into character-strings only on the wire. */
  value: string;
  ttl: number;
}

/** The value as character-strings of at most 255 bytes each (one empty string for an empty value). */
export function splitTxt(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0) return [Buffer.alloc(0)];
  const strings: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += maxStringBytes) strings.push(bytes.subarray(offset, offset + maxStringBytes));
  return strings;
}

/** The logical value of a record read from DNS (strings concatenated). */
export function joinTxt(strings: ReadonlyArray<string | Buffer>): string {
  return strings.map((part) => (typeof part === 'string' ? part : part.toString('utf8'))).join('');
}

/** One character-string in zone-file syntax: quoted, with `"` and `\` escaped and other non-printables as \DDD. */
function quoteString(bytes: Buffer): string {
  let text = '"';
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte > 0x7e) text += `\\${String(byte).padStart(3, '0')}`;
    else text += String.fromCharCode(byte);
  }
  return `${text}"`;
}

/** The value as it is written in a zone file or a DNS panel: `"first 255 bytes" "rest"`. */
export function presentTxtValue(value: string): string {
  return splitTxt(value).map(quoteString).join(' ');
}

/** One zone-file line, as a fix shows it and an operator pastes it: `name. TTL IN TYPE value`, TXT values split. */
export function zoneLine(name: string, type: string, value: string, ttl = 3600): string {
  const shown = type === 'TXT' ? presentTxtValue(value) : value;
  return `${name.replace(/\.$/, '')}. ${ttl} IN ${type} ${shown}`;
}

/** A record mailops publishes as one zone-file line: `name. 300 IN TXT "..." "..."`. */
export function presentTxtRecord(record: TxtRecord): string {
  return zoneLine(record.name, 'TXT', record.value, record.ttl);
}
