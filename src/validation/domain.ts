// Domain names as mailops accepts them: before anything reaches the host or DNS.
//
// Input may be Unicode (IDNA) or ASCII, any case, with or without one trailing dot. The result is the lower-case
// ASCII (A-label) form, which is what chasquid keeps on disk (domains/<domain>/) and what DNS answers for.
// We are stricter than DNS: letters, digits and inner hyphens only, at least two labels, so that a domain can be
// used as a path component and a DNS name without further escaping.

import { domainToASCII } from 'node:url';
import { usageError } from '../errors.ts';

const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The reason `input` is not an acceptable domain, or undefined when it is. */
export function domainProblem(input: string): string | undefined {
  if (input.length === 0) return 'it is empty';
  if (/[\s\u0000-\u001f\u007f]/u.test(input)) return 'it contains white space or control characters';
  if (/[/\\@:,;*'"`$|&<>()[\]{}!?#%]/u.test(input)) return 'it contains characters that are not allowed in a domain';
  const withoutDot = input.endsWith('.') ? input.slice(0, -1) : input;
  const ascii = domainToASCII(withoutDot);
  if (ascii === '') return 'it is not a valid internationalised domain name';
  if (ascii.length > 253) return 'it is longer than 253 characters';
  const labels = ascii.split('.');
  if (labels.length < 2) return 'it needs at least two labels, like example.com';
  for (const part of labels) {
    if (part === '') return 'it has an empty label (two dots in a row)';
    if (!label.test(part)) return `the label "${part}" must be 1 to 63 letters, digits or inner hyphens`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return 'the last label is numeric (an IP address is not a domain)';
  return undefined;
}

/** The normalised (lower-case A-label) form of a domain, or a usage error that says what is wrong. */
export function normalizeDomain(input: string, what = 'domain'): string {
  const problem = domainProblem(input);
  if (problem !== undefined) {
    throw usageError('invalid-domain', `The ${what} "${printable(input)}" is not valid: ${problem}.`,
      'Give a domain name such as example.com (Unicode names are accepted and stored in their ASCII form).');
  }
  const withoutDot = input.endsWith('.') ? input.slice(0, -1) : input;
  return domainToASCII(withoutDot);
}

/** A value safe to quote in a message: control characters shown as escapes, long values cut. */
export function printable(value: string, max = 80): string {
  const escaped = JSON.stringify(value).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
