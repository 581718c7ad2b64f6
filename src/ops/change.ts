// How every operation that changes the mail host runs (style.md, "One operation, one shape"):
//   validate (before calling this; pure) → take the host lock → commit stray edits in a git-kept CHASQUID_DIR →
//   do the work → commit our files with the operation and actor → record the audit entry (and log it) → result.
// A failure is audited too, with its error code, and then rethrown unchanged. Audit entries never hold secrets:
// only the operation's name, its target and the outcome.

import type { DatabaseSync } from 'node:sqlite';
import { ConfigRepository } from '../chasquid/git.ts';
import { asMailopsError, refusedError } from '../errors.ts';
import type { MailHost } from '../host/mail-host.ts';
import type { Logger } from '../log.ts';
import { recordAudit } from '../store/audit.ts';

export interface ChangeContext {
  host: MailHost;
  chasquidDir: string;
  database: DatabaseSync;
  logger: Logger;
  /** Who asked: `cli:alice`, `discord:1234…(alice)`, `scheduler`. */
  actor: string;
  now: () => Date;
}

export interface Change {
  /** The interface name of the operation: `alias-set`, `dkim-rotate`, … */
  operation: string;
  /** What it changes: an address, a domain, a certificate name. */
  target: string;
}

export interface ChangeOutcome<T> {
  result: T;
  /** Files under CHASQUID_DIR that the work wrote or removed (for the git commit). */
  changedFiles: string[];
  /** One line for the audit trail and the commit body; never a secret. */
  summary?: string;
}

export async function applyChange<T>(context: ChangeContext, change: Change, work: () => Promise<ChangeOutcome<T>>): Promise<T> {
  const { host, actor } = context;
  const description = `${change.operation} ${change.target}`;
  try {
    const outcome = await host.lock.run(async () => {
      const repository = new ConfigRepository(host, context.chasquidDir);
      const tracked = await repository.isRepository();
      if (tracked) {
        const committed = await repository.commitPending(`Changes found in the working tree before mailops ${description} (by ${actor})`);
        if (committed) context.logger.warn({ operation: change.operation }, 'committed uncommitted changes found in CHASQUID_DIR before ours');
      }
      const done = await work();
      if (tracked) {
        try {
          await repository.commit(done.changedFiles, `mailops ${description} (by ${actor})${done.summary ? `\n\n${done.summary}` : ''}`);
        } catch (error) {
          // The change is applied; losing its commit is worth a warning, not a failed operation.
          context.logger.warn({ err: error, operation: change.operation }, 'the change is applied but could not be committed to git');
        }
      }
      return done;
    });
    audit(context, change, 'ok', outcome.summary);
    return outcome.result;
  } catch (error) {
    audit(context, change, 'failed', asMailopsError(error).code);
    throw error;
  }
}

/** Records a change that touched no host file (an accepted DNS state in the state database), done. */
export function recordDone(context: Pick<ChangeContext, 'database' | 'logger' | 'actor' | 'now'>, change: Change, summary?: string): void {
  audit(context, change, 'ok', summary);
}

/** Records a change that was asked for and refused (no confirmation, not allowed). */
export function recordRefusal(context: Pick<ChangeContext, 'database' | 'logger' | 'actor' | 'now'>, change: Change, reason: string): void {
  audit(context, change, 'refused', reason);
}

/** Refuses (exit 3, audited) a destructive change that was not confirmed. */
export function requireConfirmation(context: Pick<ChangeContext, 'database' | 'logger' | 'actor' | 'now'>, change: Change, confirmed: boolean): void {
  if (confirmed) return;
  recordRefusal(context, change, 'not confirmed');
  throw refusedError('confirmation-required', `${change.operation} ${change.target} needs confirmation; nothing was changed.`,
    'Run it again with --yes (in Discord: press Confirm).');
}

function audit(context: Pick<ChangeContext, 'database' | 'logger' | 'actor' | 'now'>, change: Change, outcome: 'ok' | 'failed' | 'refused', detail?: string): void {
  const entry = { at: context.now().toISOString(), actor: context.actor, operation: change.operation, target: change.target, outcome, ...(detail === undefined ? {} : { detail }) };
  recordAudit(context.database, entry);
  context.logger.info({ audit: entry }, `${change.operation} ${change.target}: ${outcome}`);
}
