// What a scheduled job hands back, as plain data, and the one seam between the scheduler and the front that posts its
// messages (the bot). This is the only module of src/schedule that src/bot imports, and src/schedule imports nothing
// from src/bot (test/import-directions.test.ts checks both).
//
// The direction: the scheduler owns what its outcomes mean (an alert's kind, severity, subject and facts; the health
// report's results) and declares here what it needs from a chat — a `MessagePoster` that posts one queued message.
// The bot implements that interface and decides how an outcome looks (embeds, colours, the on-call mention, slash
// commands in hints) when the outbox delivers it. The dependency so points from the front to the jobs, as it does from
// the bot to src/ops; the reverse (a renderer type exported by the bot) would make the scheduler depend on the one
// front it must not know, and would load discord.js wherever jobs run (`mailops run-job`).
//
// Everything here is JSON: an outcome is stored in the outbox (store/outbox.ts) as it is, and rendered only when it
// is delivered.

import type { CheckReport } from '../ops/check.ts';
import type { ReportsResult } from '../ops/reports.ts';

export const alertKinds = [
  'drift',
  'recovery',
  'renewal-failed',
  'renewed',
  'cert-mismatch',
  'check-failed',
  'dkim-retired',
  'dmarc-misaligned',
  'tls-report-failures',
  'delivery-failed',
  'queue-stuck',
] as const;
export type AlertKind = (typeof alertKinds)[number];

/**
 * How much an alert matters. Only `critical` pages the on-call role (ONCALL_ROLE_ID): new drift, a failed renewal, a
 * certificate mismatch. `resolved` is the end of a condition (a recovery, a renewal), `info` is news nobody must act
 * on, `warning` a problem nobody is paged for (a failing check of the health report).
 */
export type Severity = 'critical' | 'warning' | 'info' | 'resolved';

/** One thing an alert is about (a drifting record): a label, a sentence, and optional preformatted detail. */
export interface AlertFact {
  label: string;
  text: string;
  /** Shown as is, to copy from (the expected and actual values of a record). */
  detail?: string;
}

export interface JobAlert {
  kind: AlertKind;
  severity: Severity;
  /** The alert in one line, like a mail's subject. */
  subject: string;
  /** The whole alert as one plain paragraph (run-job prints it; --json shows it). */
  message: string;
  /** A repeated page for a condition that got worse (louder). */
  escalated?: boolean;
  facts?: AlertFact[];
}

/** Whether an alert mentions the on-call role. */
export const pages = (alert: Pick<JobAlert, 'severity'>): boolean => alert.severity === 'critical';

interface ReportedDomain {
  domain: string;
  /** The mail host's status in one line. */
  host: string;
}

/** One domain of the health report, for HEALTH_CHANNEL_ID: its checks, or why they could not run. */
export type HealthReport = (ReportedDomain & { checks: CheckReport }) | (ReportedDomain & { error: string });

/** What the outbox holds for one message: an outcome, not yet in any chat's form. */
export type OutboxItem =
  | { type: 'alert'; alert: JobAlert }
  | { type: 'report'; report: HealthReport }
  | { type: 'digest'; digest: ReportsResult }
  | { type: 'notice'; text: string }
  // A message queued by a version of mailops that stored messages already rendered (the migration
  // `outbox-outcomes` in store/schema.ts wraps them so): posted as it was stored.
  | { type: 'rendered'; body: Record<string, unknown> };

export interface QueuedMessage {
  channelId: string;
  /** Made when the message was queued; the same on every attempt, so that the chat can recognise a repeat. */
  nonce: string;
  item: OutboxItem;
}

/** What the scheduler needs from a chat: post one message, and say the id it got. */
export interface MessagePoster {
  /**
   * Resolves with the id of the posted message. Rejects when it was not posted; an error with an HTTP `status` of 4xx
   * (other than 408 and 429) is a refusal that repeating soon will not change (delivery.ts).
   */
  post(message: QueuedMessage): Promise<string>;
}

const itemTypes = new Set<string>(['alert', 'report', 'digest', 'notice', 'rendered']);

/** An outbox body read back from the state database, as the item it was stored as. */
export function outboxItem(body: Record<string, unknown>): OutboxItem {
  if (typeof body.type !== 'string' || !itemTypes.has(body.type)) {
    throw new Error(
      `The outbox holds a message of an unknown type (${JSON.stringify(body.type)}): it was queued by another version of mailops.`
    );
  }
  return body as unknown as OutboxItem;
}
