// The result of one deliverability check, as `check --json` prints it (README.md, "JSON results") and the Discord
// embed shows it.
//
// `fix` is present on warn and fail and says exactly what to change: the full DNS record to publish (zone-file
// syntax, TXT values already split into strings of at most 255 bytes), or the command to run.
//
// A check that could not look something up (DNS timeout, SERVFAIL, REFUSED, an unreachable server) is a temperror,
// the word RFC 7208 and RFC 7489 use: `temperror: true`, a summary starting "could not be checked (temperror)" that
// names the lookup, and a fix that says to make the name servers answer and look again — never a verdict about a
// record it did not see, and never a record to publish. Its status is the one the check gives when it cannot vouch
// for something: `fail` for the requirements (exit code 1: the check itself failed), `warn` for the optional
// checks (mta-sts, tls-rpt) and the blocklists, whose own problems are warnings.

import type { DnsAnswer } from '../dns/caching-resolver.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export const checkIds = ['mx', 'mx-address', 'ptr', 'spf', 'dkim', 'dmarc', 'mta-sts', 'tls-rpt', 'tls', 'caa', 'dnsbl', 'e2e'] as const;
export type CheckId = (typeof checkIds)[number];

export interface CheckResult {
  id: CheckId;
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  /** What to change (warn/fail): a DNS record or a command. */
  fix?: string;
  /** For a skipped check: how to turn it on, when that is worth doing. */
  hint?: string;
  /** For `tls`: the port that was checked, and the service on it. */
  port?: number;
  service?: 'smtp' | 'submission' | 'submission-tls';
  /** A lookup or connection failed, so the check could not be completed: its result is unknown, not a verdict. */
  temperror?: boolean;
  /**
   * With `temperror`: the check needs the mail host, which could not be reached or whose chasquid.conf could not be
   * read (the report's `hostError` says why, once). Front ends list these checks together instead of repeating the same error for each.
   */
  needsHost?: boolean;
}

const severity: Record<CheckStatus, number> = { skip: 0, pass: 1, warn: 2, fail: 3 };

/** The most severe status of a report (`pass` for an empty one): the colour of the Discord embed. */
export function worstStatus(results: readonly Pick<CheckResult, 'status'>[]): CheckStatus {
  return results.reduce<CheckStatus>((worst, result) => (severity[result.status] > severity[worst] ? result.status : worst), 'pass');
}

/** The worse of two statuses. */
export function worse(a: CheckStatus, b: CheckStatus): CheckStatus {
  return severity[b] > severity[a] ? b : a;
}

/** The checks whose own findings are at most warnings, and so is their temperror. */
const optional = new Set<CheckId>(['mta-sts', 'tls-rpt', 'caa', 'dnsbl']);

/** The summary of a check that could not be completed. */
export function couldNotCheck(reason: string): string {
  return `could not be checked (temperror): ${reason}`;
}

/** A check that could not look something up (see the top of this file). */
export function temperrorOf(id: CheckId, reason: string, fix: string): CheckResult {
  return { id, status: optional.has(id) ? 'warn' : 'fail', temperror: true, summary: couldNotCheck(reason), fix };
}

/** A check that could not run because the mail host could not be reached (or its configuration read). */
export function needsHostResult(id: CheckId): CheckResult {
  return {
    ...temperrorOf(id, 'it needs the mail host (see the error above)', 'Fix what the error above names, then run the check again.'),
    needsHost: true,
  };
}

/** A failed lookup, as a check result. */
export function temperrorResult(
  id: CheckId,
  answer: Extract<DnsAnswer<unknown>, { status: 'temperror' }>,
  name: string,
  type: string
): CheckResult {
  return temperrorOf(id, answer.message, `Make sure the name servers answer for ${name} (dig ${type} ${name}), then run the check again.`);
}

/** Joins findings into the one-line summary. */
export function sentence(parts: readonly string[]): string {
  return parts.filter((part) => part !== '').join('; ');
}
