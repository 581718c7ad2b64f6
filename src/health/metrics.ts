// What the bot exposes at /metrics, in Prometheus's text format (prom-client, on a registry of our own rather than
// the library's global one, so that tests and several bots in one process do not share counters).
//
//   mailops_commands_total{command,outcome}        /mail commands handled: ok, failed, refused
//   mailops_command_duration_seconds{command}      how long they took (histogram)
//   …plus the gauges that sources add (job results, check results per domain, certificate days left, alert outbox),
//   read when Prometheus scrapes, so they always show the state database's latest values.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type CommandOutcome = 'ok' | 'failed' | 'refused';

export interface GaugeSample {
  labels: Record<string, string>;
  value: number;
}

export class BotMetrics {
  readonly registry = new Registry();
  readonly #commands: Counter<'command' | 'outcome'>;
  readonly #durations: Histogram<'command'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mailops_' });
    this.#commands = new Counter({
      name: 'mailops_commands_total',
      help: '/mail commands handled, by command and outcome',
      labelNames: ['command', 'outcome'],
      registers: [this.registry],
    });
    this.#durations = new Histogram({
      name: 'mailops_command_duration_seconds',
      help: 'Time from receiving a /mail command to its answer',
      labelNames: ['command'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [this.registry],
    });
  }

  commandFinished(command: string, outcome: CommandOutcome, seconds: number): void {
    this.#commands.inc({ command, outcome });
    if (outcome !== 'refused') this.#durations.observe({ command }, seconds);
  }

  /** A gauge whose samples are read at every scrape (from the state database, typically). */
  gauge(name: string, help: string, labelNames: string[], read: () => GaugeSample[]): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const sample of read()) this.set(sample.labels, sample.value);
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
