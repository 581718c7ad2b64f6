// A job whose scheduled time passed while the bot was down runs once when it starts again (the clock is the
// runtime's, set by the test); on the very first start there is nothing to catch up, and a second restart within the
// same slot runs nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { handledSlot, jobRuns } from '../../src/store/job-runs.ts';
import { outboxLength } from '../../src/store/outbox.ts';
import { startHarness, type Harness } from './harness.ts';

const never = '0 0 1 1 *';
const day = 24 * 60 * 60 * 1000;
// Noon today: far from the 09:00 slot, so that a minute later is the same slot.
let clock = new Date().setHours(12, 0, 0, 0);
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    lab: { dns: true, domains: ['example.test', 'example.org'] },
    env: { CRON_HEALTH: '0 9 * * *', CRON_CERT_WATCH: never, CRON_DNS_DRIFT: never, CRON_REPORTS: never, CRON_DIGEST: never },
    now: () => new Date(clock),
    services: (runtime) => [new Scheduler(runtime, { delivery: { pollMs: 100 } })],
  });
});

afterAll(async () => {
  await h?.stop();
});

const healthRuns = () => jobRuns(h.runtime.database(), 'health');
/**
 * How often the scheduler decided at start-up to run the health job for a missed slot. It decides in `start()`, which
 * the bot awaits before it counts as started, and logs the decision there: so after `h.restart()` this count is final.
 */
const missedRunsLaunched = () =>
  h.logs.filter((line) => line.includes('"job":"health"') && line.includes('passed while mailops was down')).length;

describe('missed schedules', () => {
  it('the first start takes the current slot as handled and runs nothing', () => {
    expect(handledSlot(h.runtime.database(), 'health')?.getHours()).toBe(9);
    expect(healthRuns()).toEqual([]);
    expect(h.emulator.messagesIn(h.channels.health)).toEqual([]);
  });

  it('a restart after the daily health time passed runs the health job once, at start-up', async () => {
    const slotBefore = handledSlot(h.runtime.database(), 'health') as Date;
    clock += day;
    await h.restart();
    await h.emulator.until(() => healthRuns()[0]?.finishedAt !== undefined, 20_000, 'the missed health run');
    expect(healthRuns()).toHaveLength(1);
    expect(healthRuns()[0]).toMatchObject({ trigger: 'missed', slot: new Date(slotBefore.getTime() + day).toISOString() });
    await h.emulator.until(() => outboxLength(h.runtime.database()) === 0, 10_000, 'delivery');
    expect(h.emulator.messagesIn(h.channels.health)).toHaveLength(2);
    expect(missedRunsLaunched()).toBe(1);
  });

  it('another restart within the same slot runs nothing', async () => {
    clock += 60_000;
    await h.restart();
    expect(missedRunsLaunched()).toBe(1);
    expect(healthRuns()).toHaveLength(1);
    expect(h.emulator.messagesIn(h.channels.health)).toHaveLength(2);
  });
});
