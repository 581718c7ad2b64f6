// `dkim-retire` (a scheduled job, also run by `run-job dkim-retire`): retire the old DKIM keys whose grace period is
// over, in the order that never breaks signing — first stop signing with the key (1.14+: remove its file and restart
// chasquid; 1.11: it stopped signing when the selector was switched, and a key that is active again is left alone),
// then remove its record from DNS. Each retirement is recorded in the state database; a failure is kept there and
// retried on the next run.

import { chasquidVersion, restartDaemon } from '../chasquid/daemon.ts';
import { builtinKeyFile, readDkimFiles } from '../chasquid/dkim-files.ts';
import { dkimRecordName } from '../chasquid/dkim-key.ts';
import { ChasquidPaths } from '../chasquid/paths.ts';
import { dkimLayout } from '../chasquid/version.ts';
import type { RecordPublishing } from '../dns/publisher.ts';
import { asMailopsError } from '../errors.ts';
import { recordAudit } from '../store/audit.ts';
import { markRetired, markRetirementFailed, pendingRetirements, type DkimRetirement } from '../store/dkim-retirements.ts';
import { managedDomain } from '../validation/domain.ts';
import { applyChange, recordDone, requireConfirmation } from './change.ts';
import { managedDomains, type OperationContext } from './context.ts';
import { dkimRecordTtl } from './dkim-rotate.ts';
import { orphanRecords, type OrphanRecord } from './orphan-records.ts';

export interface DkimRetireResult {
  retired: Array<{ domain: string; selector: string }>;
  failed: Array<{ domain: string; selector: string; error: string }>;
  /** Retirements not due yet. */
  waiting: Array<{ domain: string; selector: string; after: string }>;
}

export async function dkimRetire(
  context: OperationContext,
  input: { publishing: () => RecordPublishing; domain?: string }
): Promise<DkimRetireResult> {
  const now = context.now();
  const pending = pendingRetirements(context.database, input.domain);
  const due = pending.filter((entry) => new Date(entry.dueAt) <= now);
  const result: DkimRetireResult = {
    retired: [],
    failed: [],
    waiting: pending
      .filter((entry) => new Date(entry.dueAt) > now)
      .map((entry) => ({ domain: entry.domain, selector: entry.selector, after: entry.dueAt })),
  };
  if (due.length === 0) return result;
  const publishing = input.publishing();
  const layout = dkimLayout(await chasquidVersion(context.host));
  const paths = new ChasquidPaths(context.chasquidDir);

  for (const domain of [...new Set(due.map((entry) => entry.domain))]) {
    const entries = due.filter((entry) => entry.domain === domain);
    try {
      await applyChange(context, { operation: 'dkim-retire', target: domain }, async () => {
        const files = await readDkimFiles(context.host, paths, domain, layout);
        const changedFiles: string[] = [];
        const retirable: DkimRetirement[] = [];
        for (const entry of entries) {
          const key = files.keys.find((candidate) => candidate.selector === entry.selector);
          if (layout === 'hook' && key?.active) {
            const error = `s=${entry.selector} is the active selector again (domains/${domain}/dkim_selector); it was not retired`;
            markRetirementFailed(context.database, entry.id, error);
            result.failed.push({ domain, selector: entry.selector, error });
            continue;
          }
          if (layout === 'builtin' && key) {
            const file = builtinKeyFile(paths, domain, entry.selector);
            await context.host.files.remove(file);
            changedFiles.push(file);
          }
          retirable.push(entry);
        }
        // The key stops signing before its record goes: a message signed a moment earlier still finds its key.
        if (changedFiles.length > 0) await restartDaemon(context.host, context.config.CHASQUID_RESTART, context.chasquidDir);
        for (const entry of retirable) {
          try {
            await publishing.unpublish({ name: dkimRecordName(entry.selector, domain), value: entry.record, ttl: dkimRecordTtl });
            markRetired(context.database, entry.id, context.now());
            result.retired.push({ domain, selector: entry.selector });
          } catch (error) {
            const message = asMailopsError(error).message;
            markRetirementFailed(context.database, entry.id, message);
            result.failed.push({
              domain,
              selector: entry.selector,
              error: `its key no longer signs, but removing its DNS record failed: ${message}`,
            });
          }
        }
        return { result: undefined, changedFiles, summary: `retired ${retirable.map((entry) => entry.selector).join(', ') || 'nothing'}` };
      });
    } catch (error) {
      const message = asMailopsError(error).message;
      for (const entry of entries) {
        if (result.retired.some((done) => done.domain === domain && done.selector === entry.selector)) continue;
        if (result.failed.some((done) => done.domain === domain && done.selector === entry.selector)) continue;
        markRetirementFailed(context.database, entry.id, message);
        result.failed.push({ domain, selector: entry.selector, error: message });
      }
    }
  }
  return result;
}

export interface JobAlert {
  kind: 'dkim-retired';
  message: string;
}

export interface DkimRetireJobResult {
  job: 'dkim-retire';
  ok: boolean;
  alerts: JobAlert[];
  retired: DkimRetireResult['retired'];
  failed: DkimRetireResult['failed'];
  waiting: DkimRetireResult['waiting'];
}

/** The job as `run-job dkim-retire` and the scheduler report it: ok unless a retirement failed. */
export async function dkimRetireJob(
  context: OperationContext,
  input: { publishing: () => RecordPublishing }
): Promise<DkimRetireJobResult> {
  const result = await dkimRetire(context, input);
  return {
    job: 'dkim-retire',
    ok: result.failed.length === 0,
    alerts: result.retired.map(({ domain, selector }) => ({
      kind: 'dkim-retired',
      message: `Retired the old DKIM key s=${selector} of ${domain}: it no longer signs and its DNS record is removed.`,
    })),
    ...result,
  };
}

export interface DkimRetireCommandResult extends DkimRetireResult {
  domain: string;
  /** With --prune: the orphan records removed, and those whose removal failed. */
  pruned?: { removed: OrphanRecord[]; failed: Array<{ name: string; error: string }> };
}

/**
 * `dkim-retire <domain> [--prune]`: the domain's retirements that are due (as the job does them); with `prune`, also
 * removes the orphan records dkim-show and dns-diff list (orphan-records.ts) — destructive, so it needs confirmation
 * (--yes, Confirm) and is audited as `dkim-retire <domain>`, with what was removed.
 */
export async function dkimRetireDomain(
  context: OperationContext,
  input: { domain: string; prune: boolean; confirmed: boolean; publishing: () => RecordPublishing }
): Promise<DkimRetireCommandResult> {
  const domain = managedDomain(input.domain, managedDomains(context.config));
  const change = { operation: 'dkim-retire', target: domain };
  if (input.prune) requireConfirmation(context, change, input.confirmed);
  let publishing: RecordPublishing | undefined;
  const publisher = () => (publishing ??= input.publishing());
  const retired = await dkimRetire(context, { publishing: publisher, domain });
  if (!input.prune) return { domain, ...retired };

  const files = await readDkimFiles(
    context.host,
    new ChasquidPaths(context.chasquidDir),
    domain,
    dkimLayout(await chasquidVersion(context.host))
  );
  const orphans = await orphanRecords(
    context,
    domain,
    files.keys.map((key) => key.selector)
  );
  const pruned: NonNullable<DkimRetireCommandResult['pruned']> = { removed: [], failed: [] };
  for (const orphan of orphans) {
    try {
      // Each value that is there (a record holds one value; several when a challenge was left more than once).
      for (const value of orphan.values) await publisher().unpublish({ name: orphan.name, value, ttl: dkimRecordTtl });
      pruned.removed.push(orphan);
    } catch (error) {
      pruned.failed.push({ name: orphan.name, error: asMailopsError(error).message });
    }
  }
  const summary = `pruned ${pruned.removed.map((orphan) => orphan.name).join(', ') || 'nothing'}${pruned.failed.length > 0 ? `; FAILED ${pruned.failed.map((entry) => entry.name).join(', ')}` : ''}`;
  if (pruned.failed.length === 0) recordDone(context, change, summary);
  else
    recordAudit(context.database, {
      at: context.now().toISOString(),
      actor: context.actor,
      operation: change.operation,
      target: domain,
      outcome: 'failed',
      detail: summary,
    });
  return { domain, ...retired, pruned };
}
