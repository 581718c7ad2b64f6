// The audit trail: who changed what on the mail host, when, and how it went. Never a secret: entries hold the
// operation's name, its target (an address, a domain) and a short outcome; callers pass nothing else.

import type { DatabaseSync } from 'node:sqlite';

export interface AuditEntry {
  at: string;
  actor: string;
  operation: string;
  target: string;
  outcome: AuditOutcome;
  detail?: string;
}

/** `started` opens every change; one of the others ends it (`interrupted`: found unfinished by a later run). */
export type AuditOutcome = 'started' | 'ok' | 'failed' | 'rolled back' | 'interrupted' | 'refused';

export function recordAudit(database: DatabaseSync, entry: AuditEntry): void {
  database
    .prepare('INSERT INTO audit (at, actor, operation, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)')
    .run(entry.at, entry.actor, entry.operation, entry.target, entry.outcome, entry.detail ?? null);
}

export function auditEntries(database: DatabaseSync, limit = 100): AuditEntry[] {
  const rows = database
    .prepare('SELECT at, actor, operation, target, outcome, detail FROM audit ORDER BY id DESC LIMIT ?')
    .all(limit) as unknown as Array<AuditEntry & { detail: string | null }>;
  return rows.map(({ detail, ...rest }) => (detail === null ? rest : { ...rest, detail }));
}
