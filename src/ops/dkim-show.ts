// `dkim-show <domain>`: the domain's DKIM selectors — the keys on the mail host and the old ones still waiting for
// retirement — each with its DNS record, whether every authoritative server publishes it, whether chasquid signs
// with it, and when it is to be retired — and the orphan records mailops made and lost track of (orphan-records.ts),
// which `dkim-retire --prune` removes. Read-only.

import { chasquidVersion } from '../chasquid/daemon.ts';
import { readDkimFiles } from '../chasquid/dkim-files.ts';
import { dkimRecordFor, dkimRecordName } from '../chasquid/dkim-key.ts';
import { ChasquidPaths } from '../chasquid/paths.ts';
import { dkimLayout, type DkimLayout } from '../chasquid/version.ts';
import { AuthoritativeCheck } from '../dns/publisher.ts';
import { pendingRetirements } from '../store/dkim-retirements.ts';
import { managedDomain } from '../validation/domain.ts';
import { managedDomains, type OperationContext } from './context.ts';
import { dkimRecordTtl } from './dkim-rotate.ts';
import { orphanRecords, type OrphanRecord } from './orphan-records.ts';

export interface DkimSelectorStatus {
  selector: string;
  /** The TXT value that publishes the key. */
  record: string;
  /** Every authoritative server of the zone answers with this value. */
  published: boolean;
  /** chasquid signs with this key. */
  active: boolean;
  /** When `dkim-retire` removes it (ISO-8601), if it is scheduled. */
  retireAfter?: string;
}

export interface DkimShowResult {
  domain: string;
  layout: DkimLayout;
  selectors: DkimSelectorStatus[];
  /** DKIM and ACME challenge records mailops made that nothing uses any more (remove: dkim-retire --prune). */
  orphans: OrphanRecord[];
}

export async function dkimShow(context: OperationContext, input: { domain: string }): Promise<DkimShowResult> {
  const domain = managedDomain(input.domain, managedDomains(context.config));
  const paths = new ChasquidPaths(context.chasquidDir);
  const layout = dkimLayout(await chasquidVersion(context.host));
  const files = await readDkimFiles(context.host, paths, domain, layout);
  const retiring = pendingRetirements(context.database, domain);
  const check = new AuthoritativeCheck(context.config, context.logger);

  const entries = new Map<string, Omit<DkimSelectorStatus, 'published'>>();
  for (const key of files.keys) {
    let record: string;
    try {
      record = dkimRecordFor(key.privatePem);
    } catch {
      record = `(the key file ${key.file} is not a usable private key)`;
    }
    entries.set(key.selector, { selector: key.selector, record, active: key.active });
  }
  for (const retirement of retiring) {
    const entry = entries.get(retirement.selector) ?? { selector: retirement.selector, record: retirement.record, active: false };
    entries.set(retirement.selector, { ...entry, retireAfter: retirement.dueAt });
  }
  const selectors = await Promise.all(
    [...entries.values()].map(async (entry) => ({
      ...entry,
      published: await check.visible({ name: dkimRecordName(entry.selector, domain), value: entry.record, ttl: dkimRecordTtl }),
    }))
  );
  selectors.sort((a, b) => Number(b.active) - Number(a.active) || b.selector.localeCompare(a.selector));
  const orphans = await orphanRecords(
    context,
    domain,
    files.keys.map((key) => key.selector)
  );
  return { domain, layout, selectors, orphans };
}
