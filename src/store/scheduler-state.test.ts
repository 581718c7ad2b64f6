// The scheduler's state in a real (in-memory) state database: leases, the outbox, handled slots.

import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.ts';
import { handledSlot, lastJobRuns, recordHandledSlot, startJobRun, finishJobRun, recordSkippedRun } from './job-runs.ts';
import { acquireLease, leaseHolder, releaseLease } from './leases.ts';
import { enqueueMessage, markAttemptFailed, markDelivered, outboxLength, undeliveredMessages } from './outbox.ts';

describe('leases', () => {
  it('one holder at a time; renewable by its holder; free once released or expired', () => {
    const database = openDatabase(':memory:');
    expect(acquireLease(database, 'job:health', 'a', 1000, 0)).toBe(true);
    expect(acquireLease(database, 'job:health', 'b', 1000, 500)).toBe(false);
    expect(acquireLease(database, 'job:health', 'a', 1000, 900)).toBe(true);
    expect(leaseHolder(database, 'job:health', 1000)).toBe('a');
    expect(acquireLease(database, 'job:health', 'b', 1000, 1901)).toBe(true);
    releaseLease(database, 'job:health', 'a');
    expect(leaseHolder(database, 'job:health', 1902)).toBe('b');
    releaseLease(database, 'job:health', 'b');
    expect(leaseHolder(database, 'job:health', 1902)).toBeUndefined();
  });
});

describe('the outbox', () => {
  it('keeps messages in order with a nonce of at most 25 characters until delivered', () => {
    const database = openDatabase(':memory:');
    const first = enqueueMessage(database, { channelId: '1', kind: 'drift', body: { content: 'one' }, createdAt: new Date() });
    const second = enqueueMessage(database, { channelId: '1', kind: 'recovery', body: { content: 'two' }, createdAt: new Date() });
    expect(first.nonce.length).toBeLessThanOrEqual(25);
    expect(first.nonce).not.toBe(second.nonce);
    markAttemptFailed(database, first.id, 'refused', 123);
    expect(undeliveredMessages(database).map((message) => [message.body.content, message.attempts, message.nextAttemptAt])).toEqual([
      ['one', 1, 123],
      ['two', 0, 0],
    ]);
    markDelivered(database, first.id, '99', new Date());
    expect(outboxLength(database)).toBe(1);
    expect(undeliveredMessages(database)[0]?.nonce).toBe(second.nonce);
  });
});

describe('job runs and slots', () => {
  it('keeps the latest run of each job (skipped starts aside) and only ever moves a handled slot forward', () => {
    const database = openDatabase(':memory:');
    const id = startJobRun(database, {
      job: 'health',
      trigger: 'schedule',
      slot: new Date('2026-03-01T09:00:00Z'),
      startedAt: new Date('2026-03-01T09:00:01Z'),
    });
    finishJobRun(database, id, { finishedAt: new Date('2026-03-01T09:00:05Z'), outcome: 'ok', summary: 'fine', alerts: 0 });
    recordSkippedRun(database, { job: 'health', trigger: 'schedule', at: new Date('2026-03-01T09:00:02Z'), summary: 'skipped' });
    expect(lastJobRuns(database)).toMatchObject([{ job: 'health', outcome: 'ok', summary: 'fine' }]);
    recordHandledSlot(database, 'health', new Date('2026-03-02T09:00:00Z'));
    recordHandledSlot(database, 'health', new Date('2026-03-01T09:00:00Z'));
    expect(handledSlot(database, 'health')).toEqual(new Date('2026-03-02T09:00:00Z'));
  });
});
