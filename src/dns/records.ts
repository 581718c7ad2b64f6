// DNS records as people publish them: zone-file lines that a fix can show and an operator can paste.

/** TXT strings of at most 255 bytes each (RFC 1035 §3.3.14), split on byte boundaries of ASCII values. */
export function txtStrings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const strings: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 255) strings.push(bytes.subarray(offset, offset + 255).toString('utf8'));
  return strings.length === 0 ? [''] : strings;
}

/** `"v=spf1 mx -all"` — or several quoted strings for a long value. */
export function quotedTxt(value: string): string {
  return txtStrings(value).map((part) => `"${part.replace(/["\\]/g, '\\$&')}"`).join(' ');
}

/** One zone-file line: `name. TTL IN TYPE value`. */
export function zoneLine(name: string, type: string, value: string, ttl = 3600): string {
  const shown = type === 'TXT' ? quotedTxt(value) : value;
  return `${name.replace(/\.$/, '')}. ${ttl} IN ${type} ${shown}`;
}
