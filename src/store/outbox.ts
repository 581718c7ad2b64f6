// The outbox: every message for Discord (alerts, health reports, notices) is first written here, as the scheduler's
// plain outcome (schedule/outcome.ts), then rendered and delivered by the one process holding the delivery lease
// (schedule/delivery.ts, with the bot's poster). A message stays until Discord has it, survives restarts, and goes out
// in the order it was queued, per channel. Each carries a nonce made when it was queued and sent with `enforce_nonce`,
// so that a retry after a lost answer is recognised by Discord instead of posted twice.

import { randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';

export interface OutboxMessage {
  id: number;
  channelId: string;
  nonce: string;
  /** What it is (an alert kind, `health`, `notice`); for logs and counts. */
  kind: string;
  /** What to post, as JSON: the outcome the scheduler queued (rendered when delivered). */
  body: Record<string, unknown>;
  createdAt: string;
  attempts: number;
  /** Not before this time (ms since the epoch). */
  nextAttemptAt: number;
  lastError: string | undefined;
}

interface Row {
  id: number;
  channel_id: string;
  nonce: string;
  kind: string;
  body: string;
  created_at: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}

function fromRow(row: Row): OutboxMessage {
  return {
    id: row.id,
    channelId: row.channel_id,
    nonce: row.nonce,
    kind: row.kind,
    body: JSON.parse(row.body) as Record<string, unknown>,
    createdAt: row.created_at,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error ?? undefined,
  };
}

/** Discord takes nonces of at most 25 characters. */
function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

export function enqueueMessage(
  database: DatabaseSync,
  message: { channelId: string; kind: string; body: Record<string, unknown>; createdAt: Date }
): OutboxMessage {
  const nonce = newNonce();
  const result = database
    .prepare('INSERT INTO outbox (channel_id, nonce, kind, body, created_at) VALUES (?, ?, ?, ?, ?)')
    .run(message.channelId, nonce, message.kind, JSON.stringify(message.body), message.createdAt.toISOString());
  return {
    id: Number(result.lastInsertRowid),
    channelId: message.channelId,
    nonce,
    kind: message.kind,
    body: message.body,
    createdAt: message.createdAt.toISOString(),
    attempts: 0,
    nextAttemptAt: 0,
    lastError: undefined,
  };
}

/** Undelivered messages in queue order. */
export function undeliveredMessages(database: DatabaseSync, limit = 1000): OutboxMessage[] {
  return (database.prepare('SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT ?').all(limit) as unknown as Row[]).map(
    fromRow
  );
}

export function markDelivered(database: DatabaseSync, id: number, messageId: string, at: Date): void {
  database
    .prepare('UPDATE outbox SET delivered_at = ?, message_id = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?')
    .run(at.toISOString(), messageId, id);
}

export function markAttemptFailed(database: DatabaseSync, id: number, error: string, nextAttemptAt: number): void {
  database
    .prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?')
    .run(error.slice(0, 500), nextAttemptAt, id);
}

/** How many messages wait for delivery (for `/metrics`). */
export function outboxLength(database: DatabaseSync): number {
  return (database.prepare('SELECT COUNT(*) AS count FROM outbox WHERE delivered_at IS NULL').get() as { count: number }).count;
}

/** Delivered messages older than `before` are of no further use. */
export function pruneDelivered(database: DatabaseSync, before: Date): void {
  database.prepare('DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?').run(before.toISOString());
}
