// Changes in progress: each change to the mail host is recorded here when it starts and when it ends. A row that
// never ended belongs to a mailops that was killed (or a machine that went down) mid-change; the next run finds it,
// records it as interrupted, and — for multi-step changes — reads the steps it had taken (its intent journal) to
// finish or undo them. Steps are recorded *before* they are taken. Never a secret: steps hold names and DNS records.

import type { DatabaseSync } from 'node:sqlite';

export type OperationOutcome = 'ok' | 'failed' | 'rolled back' | 'interrupted';

export interface OpenOperation {
  id: number;
  operation: string;
  target: string;
  actor: string;
  pid: number;
  startedAt: string;
  steps: unknown[];
}

export function startOperation(database: DatabaseSync, entry: { operation: string; target: string; actor: string; at: string }): number {
  const result = database
    .prepare('INSERT INTO operations (operation, target, actor, pid, started_at) VALUES (?, ?, ?, ?, ?)')
    .run(entry.operation, entry.target, entry.actor, process.pid, entry.at);
  return Number(result.lastInsertRowid);
}

export function endOperation(database: DatabaseSync, id: number, outcome: OperationOutcome, at: string): void {
  database.prepare('UPDATE operations SET ended_at = ?, outcome = ? WHERE id = ?').run(at, outcome, id);
}

/** Records a step before it is taken (the intent journal of a multi-step change). */
export function recordStep(database: DatabaseSync, id: number, step: unknown): void {
  const row = database.prepare('SELECT steps FROM operations WHERE id = ?').get(id) as { steps: string } | undefined;
  const steps = row === undefined ? [] : (JSON.parse(row.steps) as unknown[]);
  steps.push(step);
  database.prepare('UPDATE operations SET steps = ? WHERE id = ?').run(JSON.stringify(steps), id);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Operations that started and never ended, and whose process is gone: interrupted. They are marked so (and returned)
 * once; operations of processes still running are left alone.
 */
export function takeInterrupted(database: DatabaseSync, at: string): OpenOperation[] {
  const rows = database
    .prepare('SELECT id, operation, target, actor, pid, started_at, steps FROM operations WHERE ended_at IS NULL ORDER BY id')
    .all() as Array<{ id: number; operation: string; target: string; actor: string; pid: number; started_at: string; steps: string }>;
  const gone = rows.filter((row) => !alive(row.pid));
  for (const row of gone) endOperation(database, row.id, 'interrupted', at);
  return gone.map((row) => ({
    id: row.id,
    operation: row.operation,
    target: row.target,
    actor: row.actor,
    pid: row.pid,
    startedAt: row.started_at,
    steps: JSON.parse(row.steps) as unknown[],
  }));
}

/** Interrupted operations of this kind and target whose steps nobody has finished or undone yet. */
export function unrecovered(database: DatabaseSync, operation: string, target: string): OpenOperation[] {
  const rows = database
    .prepare(
      "SELECT id, operation, target, actor, pid, started_at, steps FROM operations WHERE operation = ? AND target = ? AND outcome = 'interrupted' ORDER BY id"
    )
    .all(operation, target) as Array<{
    id: number;
    operation: string;
    target: string;
    actor: string;
    pid: number;
    started_at: string;
    steps: string;
  }>;
  return rows
    .map((row) => ({
      id: row.id,
      operation: row.operation,
      target: row.target,
      actor: row.actor,
      pid: row.pid,
      startedAt: row.started_at,
      steps: JSON.parse(row.steps) as unknown[],
    }))
    .filter((row) => !row.steps.some((step) => (step as { step?: string }).step === 'recovered'));
}
