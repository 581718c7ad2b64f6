// DNS records mailops made and then lost track of: DKIM keys of selectors that no longer sign and are not waiting for
// retirement (a rotation that failed after publishing, a removal whose answer was lost), and `_acme-challenge` TXT
// records that a renewal left behind. `dkim-show` and `dns-diff` list them; `dkim-retire --prune` removes them.
//
// Which records count as mailops's own (allow-list, never "whatever is there"):
//   DKIM       a selector of mailops's pattern (the date, `20261127`, then `20261127b` …) that mailops used for the
//              domain: on a day the audit trail records a `dkim-rotate` of it (the date and up to four suffixes), or
//              one the retirement schedule knew — published with a DKIM key, not signing on the host, not scheduled
//              for retirement. Selectors made by hand or by other tools are never listed.
//   challenge  a TXT record at `_acme-challenge.<name>` for a name of the certificate (chasquid's hostname and
//              CERT_EXTRA_NAMES, a wildcard as its base name) inside the domain: a renewal removes its own
//              challenges, so one that is still there is left over.
// Answers come from DNS_RESOLVER (what the world sees); a failed lookup lists nothing.

import { dkimRecordName } from '../chasquid/dkim-key.ts';
import { resolverFor, isNoRecord } from '../dns/authoritative-servers.ts';
import { joinTxt } from '../dns/txt.ts';
import { auditEntries } from '../store/audit.ts';
import { pendingRetirements, scheduledSelectors } from '../store/dkim-retirements.ts';
import { certificateTarget } from './certificate-target.ts';
import type { OperationContext } from './context.ts';

export interface OrphanRecord {
  kind: 'dkim' | 'acme-challenge';
  /** The DNS name of the TXT record. */
  name: string;
  /** DKIM: the selector. */
  selector?: string;
  /** The TXT values found there (each one is removed by a prune). */
  values: string[];
}

/** mailops's selector pattern (chasquid/dkim-key.ts, selectorFor). */
export const mailopsSelector = /^[0-9]{8}[b-z]?$/;

const suffixesProbed = ['', 'b', 'c', 'd', 'e'];

async function txtValues(context: OperationContext, name: string): Promise<string[]> {
  try {
    return (await resolverFor(context.config.DNS_RESOLVER).resolveTxt(name)).map((strings) => joinTxt(strings));
  } catch (error) {
    if (isNoRecord(error)) return [];
    context.logger.debug({ name, err: error }, 'looking for orphan records failed; nothing is listed for this name');
    return [];
  }
}

/** Selectors mailops may have made for the domain (see the top of this file). */
function selectorsMailopsUsed(context: OperationContext, domain: string): string[] {
  const days = new Set(
    auditEntries(context.database, 100_000)
      .filter((entry) => entry.operation === 'dkim-rotate' && entry.target === domain)
      .map((entry) => entry.at.slice(0, 10).replaceAll('-', ''))
  );
  const fromAudit = [...days].flatMap((day) => suffixesProbed.map((suffix) => `${day}${suffix}`));
  return [...new Set([...fromAudit, ...scheduledSelectors(context.database, domain)])].filter((selector) => mailopsSelector.test(selector));
}

/** The orphan DKIM records of `domain`; `signing` are the selectors the host signs with now. */
export async function orphanDkimRecords(context: OperationContext, domain: string, signing: readonly string[]): Promise<OrphanRecord[]> {
  const retiring = new Set(pendingRetirements(context.database, domain).map((entry) => entry.selector));
  const candidates = selectorsMailopsUsed(context, domain).filter((selector) => !signing.includes(selector) && !retiring.has(selector));
  const found = await Promise.all(
    candidates.map(async (selector): Promise<OrphanRecord | undefined> => {
      const name = dkimRecordName(selector, domain);
      const values = (await txtValues(context, name)).filter((value) => /(^|;)\s*p\s*=/.test(value));
      return values.length > 0 ? { kind: 'dkim', name, selector, values } : undefined;
    })
  );
  return found.filter((entry): entry is OrphanRecord => entry !== undefined).sort((a, b) => a.name.localeCompare(b.name));
}

/** Leftover ACME challenge records for certificate names inside `domain`. */
export async function orphanChallengeRecords(context: OperationContext, domain: string): Promise<OrphanRecord[]> {
  const { names } = await certificateTarget(context, context.config.CERT_EXTRA_NAMES ?? []);
  const inDomain = [...new Set(names.map((name) => name.replace(/^\*\./, '')))].filter(
    (name) => name === domain || name.endsWith(`.${domain}`)
  );
  const found = await Promise.all(
    inDomain.map(async (name): Promise<OrphanRecord | undefined> => {
      const recordName = `_acme-challenge.${name}`;
      const values = await txtValues(context, recordName);
      return values.length > 0 ? { kind: 'acme-challenge', name: recordName, values } : undefined;
    })
  );
  return found.filter((entry): entry is OrphanRecord => entry !== undefined);
}

/** Both kinds, for a domain whose signing selectors are known. */
export async function orphanRecords(context: OperationContext, domain: string, signing: readonly string[]): Promise<OrphanRecord[]> {
  const [dkim, challenges] = await Promise.all([orphanDkimRecords(context, domain, signing), orphanChallengeRecords(context, domain)]);
  return [...dkim, ...challenges];
}

/** One line per record, for people: `20260101._domainkey.d TXT (DKIM key of selector 20260101)`. */
export function describeOrphan(orphan: OrphanRecord): string {
  return orphan.kind === 'dkim'
    ? `${orphan.name} TXT (DKIM key of selector ${orphan.selector}, which no longer signs and is not scheduled for retirement)`
    : `${orphan.name} TXT (${orphan.values.length} leftover ACME challenge value${orphan.values.length === 1 ? '' : 's'})`;
}
