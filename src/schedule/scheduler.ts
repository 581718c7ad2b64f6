// The scheduler: runs the jobs (runner.ts) on their schedules while the bot runs, and delivers the outbox.
//
//   health       CRON_HEALTH       (default 0 9 * * *)      deliverability report of every domain, to HEALTH_CHANNEL_ID
//   cert-watch   CRON_CERT_WATCH   (default 17 */6 * * *)   renewal when due, with retries; served-certificate mismatch
//   dns-drift    CRON_DNS_DRIFT    (default */15 * * * *)   DNS drift against the accepted state and the host
//   dkim-retire  hourly, at minute 41 (not configurable: it only acts when a grace period has ended, which is days long)
//   reports      CRON_REPORTS      (default 23 * * * *)     DMARC and TLS reports from the spool, the mail log's deliveries
//   digest       CRON_DIGEST       (default 0 8 * * 1)      the week's reports and deliveries, to HEALTH_CHANNEL_ID
//
// - Slots: the times each schedule names come from one library (slots.ts), which also validated the CRON_* settings.
//   Each job waits for its next slot with a timer (by the runtime's clock); a timer that wakes late (the machine
//   slept) runs the job once for the latest slot it passed, not once per slot.
// - Missed runs: each job's latest handled slot is kept in the state database. At start-up, a job whose latest slot
//   (by the runtime's clock) is later than the one it handled — its time came while mailops was down — runs once.
//   On the very first start there is nothing to catch up: the current slot is taken as handled.
// - A schedule whose slots cannot be computed (config.ts refuses such settings, so this is a bug or a clock far off)
//   is not followed in silence: it is logged as an error and posted as a notice to ALERT_CHANNEL_ID.
// - No overlap: a job never runs twice at once (runner.ts holds a lease per job, across processes). A slot that comes
//   while the previous run is still going is skipped and reported: once per slow run, as a notice in ALERT_CHANNEL_ID,
//   and as a skipped run in the state database.
// - Retries: a job that asks to run again sooner (cert-watch after a failed renewal) runs then; the time is kept in
//   its open alert, so a restart keeps it.
// - The outbox is delivered through the chat's poster (delivery.ts), and at once after a run queued something.
//
// The scheduler knows no chat: whoever starts it (the bot) hands it a `MessagePoster` (outcome.ts).

import type { Logger } from '../log.ts';
import type { Runtime } from '../runtime.ts';
import { openAlerts } from '../store/alerts.ts';
import { handledSlot, recordHandledSlot, recordSkippedRun, type JobTrigger } from '../store/job-runs.ts';
import { enqueueMessage } from '../store/outbox.ts';
import { OutboxDelivery, type DeliveryOptions } from './delivery.ts';
import { jobNames, type JobName, type JobOptions } from './job.ts';
import type { MessagePoster } from './outcome.ts';
import { runJob } from './runner.ts';
import { latestSlot, nextSlot } from './slots.ts';

/** dkim-retire's schedule: hourly. Retirements are due days after a rotation; an hour late is on time. */
export const dkimRetireSchedule = '41 * * * *';

export function jobSchedules(config: Runtime['config']): Record<JobName, string> {
  return {
    health: config.CRON_HEALTH,
    'cert-watch': config.CRON_CERT_WATCH,
    'dns-drift': config.CRON_DNS_DRIFT,
    'dkim-retire': dkimRetireSchedule,
    reports: config.CRON_REPORTS,
    digest: config.CRON_DIGEST,
  };
}

export interface SchedulerOptions {
  jobs?: Partial<JobOptions>;
  delivery?: Partial<DeliveryOptions>;
  /** How long stopping waits for running jobs. */
  stopGraceMs?: number;
}

interface Running {
  startedAt: Date;
  done: Promise<void>;
  reportedSlow: boolean;
}

/** What the scheduler runs beside: something that can post its messages (the running bot). */
export interface SchedulerFront {
  readonly poster: MessagePoster;
}

/** The longest a timer may wait (setTimeout's limit); a later slot is waited for in steps. */
const maxTimerMs = 2 ** 31 - 1;

export class Scheduler {
  readonly name = 'scheduler';
  readonly #runtime: Runtime;
  readonly #options: SchedulerOptions;
  readonly #logger: Logger;
  readonly #timers = new Map<JobName, NodeJS.Timeout>();
  readonly #running = new Map<JobName, Running>();
  readonly #retries = new Map<JobName, NodeJS.Timeout>();
  #delivery: OutboxDelivery | undefined;
  #stopping = false;

  constructor(runtime: Runtime, options: SchedulerOptions = {}) {
    this.#runtime = runtime;
    this.#options = options;
    this.#logger = runtime.logger.child({ service: 'scheduler' });
  }

  get delivery(): OutboxDelivery | undefined {
    return this.#delivery;
  }

  start(front: SchedulerFront): void {
    const database = this.#runtime.database();
    this.#delivery = new OutboxDelivery(database, front.poster, this.#logger, this.#options.delivery);
    this.#delivery.start();
    const schedules = jobSchedules(this.#runtime.config);
    const now = this.#runtime.now();
    for (const name of jobNames) {
      const expression = schedules[name];
      let slot: Date;
      try {
        slot = latestSlot(expression, now);
      } catch (error) {
        this.#scheduleFailed(name, expression, error);
        continue;
      }
      const handled = handledSlot(database, name);
      if (handled === undefined) recordHandledSlot(database, name, slot);
      else if (slot > handled) {
        this.#logger.info({ job: name, slot, handled }, 'its scheduled time passed while mailops was down: running it now');
        void this.#launch(name, 'missed', slot);
      }
      this.#follow(name, expression, now);
    }
    for (const alert of openAlerts<{ nextRetryAt?: string }>(database, 'renewal-failed:')) {
      if (alert.state.nextRetryAt !== undefined) this.#retryAt('cert-watch', new Date(alert.state.nextRetryAt));
    }
  }

  /** Runs a job now unless it is running (then the start is reported as skipped). Resolves when it has finished. */
  run(name: JobName, trigger: JobTrigger = 'manual', slot?: Date): Promise<void> {
    return this.#launch(name, trigger, slot);
  }

  #launch(name: JobName, trigger: JobTrigger, slot?: Date): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    const running = this.#running.get(name);
    if (running) {
      // A retry that finds the job running has nothing to add: the run in progress does the work.
      if (trigger !== 'retry') this.#skipped(name, trigger, running, slot);
      return running.done;
    }
    const entry: Running = { startedAt: this.#runtime.now(), done: Promise.resolve(), reportedSlow: false };
    entry.done = this.#execute(name, trigger, slot).finally(() => this.#running.delete(name));
    this.#running.set(name, entry);
    return entry.done;
  }

  async #execute(name: JobName, trigger: JobTrigger, slot: Date | undefined): Promise<void> {
    const database = this.#runtime.database();
    try {
      const result = await runJob(this.#runtime, name, {
        trigger,
        actor: 'scheduler',
        ...(slot ? { slot } : {}),
        ...(this.#options.jobs ? { options: this.#options.jobs } : {}),
      });
      if (result.status === 'busy') {
        this.#logger.warn({ job: name, holder: result.holder }, 'another mailops process is running this job; this run is skipped');
        recordSkippedRun(database, {
          job: name,
          trigger,
          ...(slot ? { slot } : {}),
          at: this.#runtime.now(),
          summary: `skipped: ${result.holder ?? 'another process'} is running it`,
        });
      } else {
        if (result.queued > 0) this.#delivery?.kick();
        if (result.outcome.retryAt) this.#retryAt(name, result.outcome.retryAt);
      }
    } catch (error) {
      this.#logger.error({ err: error, job: name }, `${name} failed`);
    } finally {
      if (slot) recordHandledSlot(database, name, slot);
    }
  }

  /** A start while the job is still running: not stacked, but recorded, and reported once per slow run. */
  #skipped(name: JobName, trigger: JobTrigger, running: Running, slot: Date | undefined): void {
    const database = this.#runtime.database();
    const now = this.#runtime.now();
    const text = `${name} is still running (started ${running.startedAt.toISOString()}); the ${trigger} run${slot ? ` of ${slot.toISOString()}` : ''} was skipped, not queued behind it.`;
    this.#logger.warn({ job: name, startedAt: running.startedAt, trigger }, 'the previous run is still going: this one is skipped');
    recordSkippedRun(database, { job: name, trigger, ...(slot ? { slot } : {}), at: now, summary: `skipped: ${text}` });
    if (slot) recordHandledSlot(database, name, slot);
    const channel = this.#runtime.config.ALERT_CHANNEL_ID;
    if (running.reportedSlow || channel === undefined) return;
    running.reportedSlow = true;
    enqueueMessage(database, { channelId: channel, kind: 'notice', body: { type: 'notice', text: `Slow job: ${text}` }, createdAt: now });
    this.#delivery?.kick();
  }

  /** Waits for the first slot after `after`, runs the job for it, and goes on from there. */
  #follow(name: JobName, expression: string, after: Date): void {
    let due: Date;
    try {
      due = nextSlot(expression, after);
    } catch (error) {
      this.#scheduleFailed(name, expression, error);
      return;
    }
    const wait = () => {
      if (this.#stopping) return;
      const now = this.#runtime.now();
      if (now < due) {
        this.#timers.set(name, setTimeout(wait, Math.min(due.getTime() - now.getTime(), maxTimerMs)));
        return;
      }
      // Woken late (the machine slept through several slots): one run, for the latest slot passed.
      let slot: Date;
      try {
        slot = latestSlot(expression, now);
      } catch (error) {
        this.#scheduleFailed(name, expression, error);
        return;
      }
      void this.#launch(name, 'schedule', slot);
      this.#follow(name, expression, now);
    };
    wait();
  }

  /** A schedule whose slots cannot be computed: the job is not run on it, and an operator is told. */
  #scheduleFailed(name: JobName, expression: string, error: unknown): void {
    const text = `${name} no longer runs on its schedule: ${(error as Error).message} Fix its setting and restart mailops; \`mailops run-job ${name}\` runs it now.`;
    this.#logger.error({ err: error, job: name, expression }, text);
    const channel = this.#runtime.config.ALERT_CHANNEL_ID;
    if (channel === undefined) return;
    enqueueMessage(this.#runtime.database(), {
      channelId: channel,
      kind: 'notice',
      body: { type: 'notice', text },
      createdAt: this.#runtime.now(),
    });
    this.#delivery?.kick();
  }

  #retryAt(name: JobName, at: Date): void {
    clearTimeout(this.#retries.get(name));
    const delay = Math.max(0, at.getTime() - this.#runtime.now().getTime());
    this.#logger.info({ job: name, at }, 'will run again for a retry');
    this.#retries.set(
      name,
      setTimeout(
        () => {
          this.#retries.delete(name);
          void this.#launch(name, 'retry');
        },
        Math.min(delay, 2 ** 31 - 1)
      )
    );
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    const running = [...this.#running.values()].map((entry) => entry.done);
    const grace = new Promise((resolve) => setTimeout(resolve, this.#options.stopGraceMs ?? 30_000).unref());
    await Promise.race([Promise.allSettled(running), grace]);
    if (this.#running.size > 0) this.#logger.warn({ jobs: [...this.#running.keys()] }, 'stopping with jobs still running');
    await this.#delivery?.stop();
  }
}
