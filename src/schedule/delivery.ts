// Delivery of the outbox (store/outbox.ts) through a chat's poster (outcome.ts; the bot's poster renders each outcome
// into a Discord message): oldest first, per channel in order, each message posted with the nonce it was queued with, so
// that a message whose answer was lost and is posted again is recognised by Discord (`enforce_nonce`: it returns the
// message it already has) rather than posted twice.
//
// A message that fails waits and is tried again — after a Discord outage or a network error with growing pauses (from
// `retryFirstMs`, doubling, at most `retryMaxMs`); after a refusal that repeating will not fix by itself (a missing
// channel, missing permissions: 4xx other than 429) every `permanentRetryMs`, logged as an error, since an operator
// can fix it — and the messages queued after it in the same channel wait for it. Nothing is dropped.
//
// One process delivers at a time (a lease in the state database): the bot, every `pollMs`, and at once when `kick` is
// called after queueing. `mailops run-job` only queues (it loads no Discord code); `deliveringProcess` tells it
// whether a bot is delivering now.

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from '../log.ts';
import { acquireLease, leaseHolder, releaseLease } from '../store/leases.ts';
import { markAttemptFailed, markDelivered, pruneDelivered, undeliveredMessages } from '../store/outbox.ts';
import { outboxItem, type MessagePoster } from './outcome.ts';

export interface DeliveryOptions {
  pollMs: number;
  retryFirstMs: number;
  retryMaxMs: number;
  permanentRetryMs: number;
  leaseMs: number;
}

export const defaultDeliveryOptions: DeliveryOptions = {
  pollMs: 5000,
  retryFirstMs: 2000,
  retryMaxMs: 5 * 60_000,
  permanentRetryMs: 10 * 60_000,
  leaseMs: 60_000,
};

const leaseName = 'outbox-delivery';
const dayMs = 24 * 60 * 60 * 1000;

/** The process delivering the outbox now (a running bot), if any. */
export function deliveringProcess(database: DatabaseSync): string | undefined {
  return leaseHolder(database, leaseName);
}

export interface DeliveryPass {
  /** This process could deliver (it holds the lease). */
  holding: boolean;
  delivered: number;
  /** Messages still waiting after the pass. */
  waiting: number;
}

/** Whether Discord refused the message in a way that repeating it soon will not change. */
function isPermanent(error: unknown): boolean {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

export class OutboxDelivery {
  readonly holder = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly #database: DatabaseSync;
  readonly #poster: MessagePoster;
  readonly #logger: Logger;
  readonly #options: DeliveryOptions;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<DeliveryPass> | undefined;
  #again = false;
  #stopped = false;

  constructor(database: DatabaseSync, poster: MessagePoster, logger: Logger, options: Partial<DeliveryOptions> = {}) {
    this.#database = database;
    this.#poster = poster;
    this.#logger = logger;
    this.#options = { ...defaultDeliveryOptions, ...options };
  }

  /** Delivers every `pollMs` until stopped. */
  start(): void {
    const tick = () => {
      this.kick();
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.pollMs);
    };
    tick();
  }

  /** Starts a pass now (or right after the one running). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#pass) {
      this.#again = true;
      return;
    }
    void this.deliver();
  }

  /** One pass over the outbox; passes never overlap. */
  deliver(): Promise<DeliveryPass> {
    if (this.#pass) return this.#pass;
    this.#pass = this.#deliver()
      .catch((error: unknown) => {
        this.#logger.error({ err: error }, 'delivering the outbox failed');
        return { holding: false, delivered: 0, waiting: -1 };
      })
      .finally(() => {
        this.#pass = undefined;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          void this.deliver();
        }
      });
    return this.#pass;
  }

  async #deliver(): Promise<DeliveryPass> {
    const lease = () => acquireLease(this.#database, leaseName, this.holder, this.#options.leaseMs);
    if (!lease()) return { holding: false, delivered: 0, waiting: undeliveredMessages(this.#database).length };
    let delivered = 0;
    const blocked = new Set<string>();
    for (const message of undeliveredMessages(this.#database)) {
      if (this.#stopped || !lease()) break;
      if (blocked.has(message.channelId)) continue;
      if (message.nextAttemptAt > Date.now()) {
        blocked.add(message.channelId);
        continue;
      }
      try {
        const posted = await this.#poster.post({ channelId: message.channelId, nonce: message.nonce, item: outboxItem(message.body) });
        markDelivered(this.#database, message.id, posted, new Date());
        delivered += 1;
      } catch (error) {
        blocked.add(message.channelId);
        const permanent = isPermanent(error);
        const wait = permanent
          ? this.#options.permanentRetryMs
          : Math.min(this.#options.retryMaxMs, this.#options.retryFirstMs * 2 ** message.attempts);
        const text = (error as Error).message ?? String(error);
        markAttemptFailed(this.#database, message.id, text, Date.now() + wait);
        const entry = {
          err: error,
          channel: message.channelId,
          message: message.id,
          kind: message.kind,
          attempts: message.attempts + 1,
          retryInMs: wait,
        };
        if (permanent)
          this.#logger.error(
            entry,
            "Discord refused a queued message; it is kept and tried again (check the channel id and the bot's permissions)"
          );
        else this.#logger.warn(entry, 'could not deliver a queued message to Discord; it is kept and tried again');
      }
    }
    if (delivered > 0) pruneDelivered(this.#database, new Date(Date.now() - 30 * dayMs));
    return { holding: true, delivered, waiting: undeliveredMessages(this.#database).length };
  }

  /** Stops delivering: the pass in progress ends after its current message, and the lease is released. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#pass;
    releaseLease(this.#database, leaseName, this.holder);
  }
}
