// How every operation that changes the mail host runs (docs/architecture.md, "Operations"):
//   validate (before calling this; pure) → record that it starts (state database and audit) → take the host lock →
//   commit stray edits in a git-kept CHASQUID_DIR → do the work → commit our files with the operation and actor →
//   record how it ended (`ok`, `failed`, `rolled back`; and log it) → result.
// A change the host refuses because a file changed since we read it (or because our lock was lost) is computed anew
// from the host's current content, a few times, as long as nothing of it had reached the host. A change that never
// ended (mailops killed) is found by the next one, audited as `interrupted`, and its files committed with its name.
// A failure is audited too, with its error code, and then rethrown unchanged. Audit entries never hold secrets:
// only the operation's name, its target and the outcome.

import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { chasquidConfProblems } from '../chasquid/config-file.ts';
import { ConfigRepository } from '../chasquid/git.ts';
import { asMailopsError, refusedError } from '../errors.ts';
import type { MailHost } from '../host/mail-host.ts';
import { RemoteCommandError } from '../host/transport.ts';
import type { Logger } from '../log.ts';
import { recordAudit, type AuditOutcome } from '../store/audit.ts';
import { endOperation, recordStep, startOperation, takeInterrupted } from '../store/operations.ts';

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

/** How many times a change is computed anew after the host refused it as based on stale content (or lost its lock). */
const attemptsOnConflict = 3;

export async function applyChange<T>(
  context: ChangeContext,
  change: Change,
  work: (step: StepRecorder) => Promise<ChangeOutcome<T>>
): Promise<T> {
  const { host, actor } = context;
  const description = `${change.operation} ${change.target}`;
  const interrupted = takeInterrupted(context.database, context.now().toISOString());
  for (const operation of interrupted) {
    // The outcome of that operation, so under its actor; the detail says which run found it.
    audit(
      { ...context, actor: operation.actor },
      { operation: operation.operation, target: operation.target },
      'interrupted',
      `started ${operation.startedAt} by ${operation.actor}; found by ${description} (by ${actor})`
    );
  }
  const id = startOperation(context.database, {
    operation: change.operation,
    target: change.target,
    actor,
    at: context.now().toISOString(),
  });
  audit(context, change, 'started');
  const step: StepRecorder = { record: (taken) => recordStep(context.database, id, taken) };
  try {
    for (let attempt = 1; ; attempt += 1) {
      let changes = 0;
      try {
        const outcome = await host.lock.run(async (session) => {
          const repository = new ConfigRepository(host, context.chasquidDir);
          const tracked = await repository.isRepository();
          if (tracked) {
            const found =
              interrupted.length > 0
                ? `Changes of interrupted mailops ${interrupted.map((operation) => `${operation.operation} ${operation.target} (by ${operation.actor})`).join(', ')}, committed by mailops ${description} (by ${actor})`
                : `Changes found in the working tree before mailops ${description} (by ${actor})`;
            // A chasquid.conf that chasquid would refuse is not history worth keeping: the operator is mid-edit, or
            // something broke it. It stays uncommitted, and the log says why.
            const conf = await host.files.read(path.posix.join(context.chasquidDir, 'chasquid.conf'));
            const broken = conf === undefined ? [] : chasquidConfProblems(conf.toString('utf8'), { knowsAllFields: false });
            if (broken.length > 0) {
              context.logger.warn(
                { operation: change.operation, problems: broken },
                'chasquid.conf has problems; the edits found in CHASQUID_DIR are left uncommitted'
              );
            } else if (await repository.commitPending(found)) {
              context.logger.warn({ operation: change.operation }, 'committed uncommitted changes found in CHASQUID_DIR before ours');
            }
          }
          const before = session.changes;
          try {
            const done = await work(step);
            if (tracked) {
              try {
                await repository.commit(
                  done.changedFiles,
                  `mailops ${description} (by ${actor})${done.summary ? `\n\n${done.summary}` : ''}`
                );
              } catch (error) {
                // The change is applied; losing its commit is worth a warning, not a failed operation.
                context.logger.warn({ err: error, operation: change.operation }, 'the change is applied but could not be committed to git');
              }
            }
            return done;
          } finally {
            changes = session.changes - before;
          }
        });
        endOperation(context.database, id, 'ok', context.now().toISOString());
        audit(context, change, 'ok', outcome.summary);
        return outcome.result;
      } catch (error) {
        // Nothing of this attempt reached the host: compute the change anew from what the host holds now.
        // A command cut off by a dropped connection (no exit status) is as safe to start over, before any change.
        const again = asMailopsError(error);
        const cutOff = error instanceof RemoteCommandError && error.result.code === null;
        if (changes > 0 || attempt >= attemptsOnConflict || !(cutOff || ['host-conflict', 'host-lock-lost'].includes(again.code)))
          throw error;
        context.logger.warn(
          { operation: change.operation, attempt, code: again.code },
          'the change could not go on as it was (stale content, a lost lock or connection); reading the host again'
        );
      }
    }
  } catch (error) {
    const failure = asMailopsError(error);
    const outcome = failure.code.endsWith('rolled-back') || / Put back: /.test(failure.message) ? 'rolled back' : 'failed';
    endOperation(context.database, id, outcome, context.now().toISOString());
    audit(context, change, outcome, failure.code);
    throw error;
  }
}

/** What a multi-step change uses to keep its intent journal. */
export interface StepRecorder {
  /** Records a step (as data) before it is taken; the next run reads them to finish or undo it (store/operations.ts). */
  record: (step: unknown) => void;
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
export function requireConfirmation(
  context: Pick<ChangeContext, 'database' | 'logger' | 'actor' | 'now'>,
  change: Change,
  confirmed: boolean
): void {
  if (!confirmed) refuseUnconfirmed(context, change);
}

/** Records that `change` was refused for want of confirmation, and throws the one error that says so (with the question). */
export function refuseUnconfirmed(
  context: Pick<ChangeContext, 'database' | 'logger' | 'actor' | 'now'>,
  change: Change,
  question?: string
): never {
  recordRefusal(context, change, 'not confirmed');
  throw refusedError(
    'confirmation-required',
    `${change.operation} ${change.target} needs confirmation; nothing was changed.${question === undefined ? '' : ` ${question}`}`,
    'Run it again with --yes (in Discord: press Confirm).'
  );
}

function audit(
  context: Pick<ChangeContext, 'database' | 'logger' | 'actor' | 'now'>,
  change: Change,
  outcome: AuditOutcome,
  detail?: string
): void {
  const entry = {
    at: context.now().toISOString(),
    actor: context.actor,
    operation: change.operation,
    target: change.target,
    outcome,
    ...(detail === undefined ? {} : { detail }),
  };
  recordAudit(context.database, entry);
  context.logger.info({ audit: entry }, `${change.operation} ${change.target}: ${outcome}`);
}
