// Addresses as mailops accepts them, before anything reaches the host.
//
// chasquid-util validates little: `@d`, `a@b@d`, `x@../escape` and upper-case domains all get through and do damage
// (a path outside the config directory, a user nobody can log in as). So the grammar here is deliberately narrow:
//   local part  1–64 characters of a-z 0-9 . _ -, starting and ending with a letter or digit, no `..`;
//               upper case is folded to lower case, as chasquid does;
//               `+` is refused on the left side: chasquid treats it as a suffix separator (user+tag → user),
//               so a sender or alias named `a+b` could never receive mail;
//   domain      validation/domain.ts (IDNA to lower-case A-labels), and one of MAIL_DOMAINS for what we manage.
// Alias targets may be anywhere (the catch-all to a Gmail box is the classic) and may carry a `+tag`; a bare local
// part means the alias's own domain. Pipe targets (`| command`) are refused: mailops never writes a command that the
// mail daemon will run. Everything is refused before any I/O, with a message that says what is wrong.

import { usageError } from '../errors.ts';
import { domainProblem, managedDomain, normalizeDomain, printable } from './domain.ts';

export interface Address {
  local: string;
  domain: string;
  /** `local@domain`, normalised. */
  address: string;
}

const maxLocal = 64;
const maxAddress = 254;
const managedLocal = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/;
const targetLocal = /^[a-z0-9](?:[a-z0-9._+=-]*[a-z0-9])?$/;

function invalid(what: string, input: string, problem: string, hint: string): never {
  throw usageError('invalid-address', `The ${what} "${printable(input)}" is not valid: ${problem}.`, hint);
}

function commonProblem(input: string): string | undefined {
  if (input === '') return 'it is empty';
  if (/[\u0000-\u001f\u007f]/u.test(input)) return 'it contains control characters';
  if (/\s/u.test(input)) return 'it contains white space';
  if (input.length > maxAddress) return `it is longer than ${maxAddress} characters`;
  if (input.startsWith('-')) return 'it starts with "-"';
  if (/[;&|$`'"\\<>(){}[\]!?#%^~/:,]/u.test(input))
    return 'it contains characters that have no place in an address (such as ; & | $ ` \' " \\ < > / : ,)';
  return undefined;
}

function localProblem(local: string, pattern: RegExp): string | undefined {
  if (local === '') return 'the part before "@" is empty';
  if (local.length > maxLocal) return `the part before "@" is longer than ${maxLocal} characters`;
  if (local.includes('..')) return 'it contains ".."';
  if (!/^[\x21-\x7e]+$/.test(local)) return 'the part before "@" must be plain ASCII';
  if (!pattern.test(local.toLowerCase())) {
    return pattern === managedLocal
      ? 'the part before "@" may hold only letters, digits and . _ - (not at either end; "+" is chasquid\'s suffix separator)'
      : 'the part before "@" may hold only letters, digits and . _ - + = (not at either end)';
  }
  return undefined;
}

function split(input: string, what: string, hint: string): [string, string] {
  const parts = input.split('@');
  if (parts.length !== 2) invalid(what, input, parts.length < 2 ? 'it has no "@"' : 'it has more than one "@"', hint);
  return [parts[0] ?? '', parts[1] ?? ''];
}

function addressDomain(domain: string, input: string, what: string, domains: readonly string[], hint: string): string {
  const problem = domainProblem(domain, 'the part after "@"');
  if (problem !== undefined) invalid(what, input, problem, hint);
  return managedDomain(domain, domains);
}

const senderHint = 'Give an address like alice@example.com in one of MAIL_DOMAINS.';

/** A sender (SMTP AUTH user) or alias address in a domain mailops manages. */
export function parseManagedAddress(input: string, domains: readonly string[], what = 'address'): Address {
  const problem = commonProblem(input);
  if (problem !== undefined) invalid(what, input, problem, senderHint);
  const [local, domain] = split(input, what, senderHint);
  const localIssue = localProblem(local, managedLocal);
  if (localIssue !== undefined) invalid(what, input, localIssue, senderHint);
  const normalizedDomain = addressDomain(domain, input, what, domains, senderHint);
  const normalizedLocal = local.toLowerCase();
  return { local: normalizedLocal, domain: normalizedDomain, address: `${normalizedLocal}@${normalizedDomain}` };
}

/** An alias address: a managed address, or `*@domain` for the catch-all. */
export function parseAliasAddress(input: string, domains: readonly string[]): Address {
  if (input.startsWith('*@')) {
    const domain = addressDomain(input.slice(2), input, 'alias address', domains, senderHint);
    return { local: '*', domain, address: `*@${domain}` };
  }
  return parseManagedAddress(input, domains, 'alias address');
}

const targetHint =
  'Targets are addresses separated by commas, like alice@example.com,bob@gmail.com; a name alone means the alias\'s own domain. Pipe targets ("| command") are not accepted.';

/** One alias target; a bare local part gets `domain`. */
export function parseTarget(input: string, domain: string): string {
  const trimmed = input.trim();
  if (trimmed.startsWith('|')) {
    throw usageError(
      'pipe-target-refused',
      `The target "${printable(trimmed)}" is a pipe command; mailops does not write commands for the mail daemon to run.`,
      'Forward to addresses only; a pipe alias has to be written by hand in the aliases file.'
    );
  }
  const problem = commonProblem(trimmed);
  if (problem !== undefined) invalid('target', trimmed, problem, targetHint);
  const parts = trimmed.split('@');
  if (parts.length > 2) invalid('target', trimmed, 'it has more than one "@"', targetHint);
  const local = parts[0] ?? '';
  const localIssue = localProblem(local, targetLocal);
  if (localIssue !== undefined) invalid('target', trimmed, localIssue, targetHint);
  let targetDomain = domain;
  if (parts.length === 2) {
    const domainIssue = domainProblem(parts[1] ?? '', 'the part after "@"');
    if (domainIssue !== undefined) invalid('target', trimmed, domainIssue, targetHint);
    targetDomain = normalizeDomain(parts[1] ?? '');
  }
  return `${local.toLowerCase()}@${targetDomain}`;
}

/** The comma-separated targets of `alias-set`, validated, normalised and de-duplicated in their order. */
export function parseTargets(input: string, domain: string): string[] {
  if (/[\u0000-\u001f\u007f]/u.test(input)) invalid('target list', input, 'it contains control characters', targetHint);
  const parts = input
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0) invalid('target list', input, 'it names no target', targetHint);
  if (parts.length > 100) invalid('target list', input, 'it names more than 100 targets', targetHint);
  return [...new Set(parts.map((part) => parseTarget(part, domain)))];
}

/** A domain argument (`users example.com`): valid and managed. */
export function parseManagedDomain(input: string, domains: readonly string[]): string {
  const problem = domainProblem(input);
  if (problem !== undefined) {
    throw usageError(
      'invalid-domain',
      `The domain "${printable(input)}" is not valid: ${problem}.`,
      `Give one of MAIL_DOMAINS: ${domains.join(', ')}.`
    );
  }
  return managedDomain(input, domains);
}
