// Checks shared by the DMARC and TLS report parsers for the values a reporter sends: text that ends up in Discord and
// the CLI, counts, IP addresses. Each failure is a ReportFormatError naming the field as the report spells it.

import { isIP } from 'node:net';
import { ReportFormatError } from './format-error.ts';

/**
 * Longest text kept from a reporter. Domain names stop at 253 characters and report ids are short; anything longer is
 * cut so that a hostile report cannot flood an embed or a log line. Content is otherwise kept as it came (control
 * characters, markdown): escaping belongs to whoever renders it.
 */
export const maxTextLength = 256;

/** Trimmed and capped at `maxTextLength` (cut text ends with "…"). */
export function cleanText(value: string): string {
  const trimmed = value.trim();
  // Cut on code points, not UTF-16 units, so a surrogate pair is never split in half.
  const codePoints = Array.from(trimmed.slice(0, maxTextLength * 2));
  return codePoints.length > maxTextLength ? `${codePoints.slice(0, maxTextLength - 1).join('')}…` : trimmed;
}

/** A count: a non-negative whole number a JavaScript number holds exactly. */
export function nonNegativeInteger(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\s*\d{1,16}\s*$/.test(value)) {
    const number = Number(value);
    if (Number.isSafeInteger(number)) return number;
  }
  throw new ReportFormatError(`${field} is ${describeValue(value)}, not a non-negative whole number`);
}

/** An IPv4 or IPv6 address, as text. */
export function ipAddress(value: string, field: string): string {
  const address = value.trim();
  if (isIP(address) === 0) throw new ReportFormatError(`${field} is ${describeValue(value)}, not an IPv4 or IPv6 address`);
  return address;
}

/** A short, safe rendering of a bad value for a rejection reason: quoted, capped, control characters escaped. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') {
    const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    return shown;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'a list' : 'an object';
}

/** A name from the message (a file name), quoted and cut short with control characters escaped, for a rejection reason. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
}
