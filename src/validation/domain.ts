// Domain names as mailops accepts them: before anything reaches the host or DNS.
//
// Input may be Unicode (IDNA) or ASCII, any case, with or without one trailing dot. The result is the lower-case
// ASCII (A-label) form, which is what chasquid keeps on disk (domains/<domain>/) and what DNS answers for.
// We are stricter than DNS: letters, digits and inner hyphens only, at least two labels, so that a domain can be
// used as a path component and a DNS name without further escaping.

import { domainToASCII, domainToUnicode } from 'node:url';
import { usageError, type MailopsError } from '../errors.ts';

const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * The reason `input` is not an acceptable domain, or undefined when it is. `subject` is what the sentence calls the
 * domain: "it" when the domain is the thing named, `the part after "@"` inside an address.
 */
export function domainProblem(input: string, subject = 'it'): string | undefined {
  if (input.length === 0) return `${subject} is empty`;
  if (/[\s\u0000-\u001f\u007f]/u.test(input)) return `${subject} contains white space or control characters`;
  if (/[/\\@:,;*'"`$|&<>()[\]{}!?#%]/u.test(input)) return `${subject} contains characters that are not allowed in a domain`;
  const withoutDot = input.endsWith('.') ? input.slice(0, -1) : input;
  const ascii = domainToASCII(withoutDot);
  if (ascii === '') return `${subject} is not a valid internationalised domain name`;
  if (ascii.length > 253) return `${subject} is longer than 253 characters`;
  const labels = ascii.split('.');
  if (labels.length < 2) return `${subject} needs at least two labels, like example.com`;
  for (const part of labels) {
    if (part === '') return `${subject} has an empty label (two dots in a row)`;
    if (!label.test(part)) return `the label "${part}" must be 1 to 63 letters, digits or inner hyphens`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return 'the last label is numeric (an IP address is not a domain)';
  return undefined;
}

/** The normalised (lower-case A-label) form of a domain, or a usage error that says what is wrong. */
export function normalizeDomain(input: string, what = 'domain'): string {
  const problem = domainProblem(input);
  if (problem !== undefined) {
    throw usageError(
      'invalid-domain',
      `The ${what} "${printable(input)}" is not valid: ${problem}.`,
      'Give a domain name such as example.com (Unicode names are accepted and stored in their ASCII form).'
    );
  }
  const withoutDot = input.endsWith('.') ? input.slice(0, -1) : input;
  return domainToASCII(withoutDot);
}

/**
 * A domain for people: an internationalised domain in both forms, `bücher.example (xn--bcher-kva.example)` — the
 * Unicode form is what the reader typed and recognises, the ASCII form what DNS, chasquid's directories and the
 * JSON results hold. Any other domain as it is.
 */
export function displayDomain(ascii: string): string {
  const unicode = domainToUnicode(ascii);
  return unicode === '' || unicode === ascii ? ascii : `${unicode} (${ascii})`;
}

/**
 * The normalised form of a domain that mailops must manage, or the one error for a domain it does not manage (the
 * same code and sentence from every command that takes a domain or an address).
 */
export function managedDomain(input: string, managed: readonly string[], what = 'domain'): string {
  const domain = normalizeDomain(input, what);
  if (!managed.includes(domain)) throw notManagedError(domain, managed);
  return domain;
}

/** A domain outside MAIL_DOMAINS: exit 2, code domain-not-managed, the managed domains listed. */
export function notManagedError(domain: string, managed: readonly string[]): MailopsError {
  return usageError(
    'domain-not-managed',
    `${displayDomain(domain)} is not one of the domains mailops manages (MAIL_DOMAINS: ${managed.map(displayDomain).join(', ') || 'none'}).`,
    'Give a domain listed in MAIL_DOMAINS, or add it there.'
  );
}

/** A value safe to quote in a message: control characters shown as escapes, long values cut. */
export function printable(value: string, max = 80): string {
  const escaped = JSON.stringify(value).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
