// Posts each change (and each refusal) to AUDIT_CHANNEL_ID, when set: who, which operation, its target, the outcome.
// The same facts as the audit trail in the state database, and like it never a secret: only the command's name, the
// target the person typed (an address or a domain) and an outcome with an error code. Nobody is pinged.

import { Routes, type REST } from 'discord.js';
import type { Logger } from '../log.ts';
import { inlineCode } from './render.ts';

export interface AuditPost {
  userId: string;
  operation: string;
  target: string;
  outcome: 'ok' | 'failed' | 'refused';
  /** An error code or a refusal reason; never free text from the operation. */
  detail?: string;
}

const icons = { ok: '✅', failed: '❌', refused: '⛔' } as const;

export function auditText(post: AuditPost): string {
  const target = post.target === '' ? '' : ` ${inlineCode(post.target)}`;
  const detail = post.detail === undefined ? '' : ` (${post.detail})`;
  return `${icons[post.outcome]} <@${post.userId}> \`/mail ${post.operation}\`${target}: ${post.outcome}${detail}`;
}

export class AuditChannel {
  readonly #rest: REST;
  readonly #channelId: string | undefined;
  readonly #logger: Logger;

  constructor(rest: REST, channelId: string | undefined, logger: Logger) {
    this.#rest = rest;
    this.#channelId = channelId;
    this.#logger = logger;
  }

  async post(post: AuditPost): Promise<void> {
    if (this.#channelId === undefined) return;
    try {
      await this.#rest.post(Routes.channelMessages(this.#channelId), {
        body: { content: auditText(post), allowed_mentions: { parse: [] } },
      });
    } catch (error) {
      this.#logger.warn({ err: error, channel: this.#channelId }, 'could not post to the audit channel');
    }
  }
}
