// DNS records as people publish them: zone-file lines that a fix can show and an operator can paste.

import { presentTxtValue } from './txt.ts';

/** One zone-file line: `name. TTL IN TYPE value`, a TXT value split into quoted strings of at most 255 bytes. */
export function zoneLine(name: string, type: string, value: string, ttl = 3600): string {
  const shown = type === 'TXT' ? presentTxtValue(value) : value;
  return `${name.replace(/\.$/, '')}. ${ttl} IN ${type} ${shown}`;
}
