// The scheduler and its outbox in a real state database, with a poster that keeps what it is given in place of a
// chat: a schedule whose slots cannot be computed is reported, and messages queued by an earlier version (already
// rendered) are still delivered as they were stored.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { createRuntime } from '../runtime.ts';
import { openDatabase } from '../store/database.ts';
import { migrations } from '../store/schema.ts';
import { OutboxDelivery } from './delivery.ts';
import type { MessagePoster, QueuedMessage } from './outcome.ts';
import { Scheduler } from './scheduler.ts';

/** A poster that keeps what it is given, in place of a chat. */
function keepingPoster(): MessagePoster & { posted: QueuedMessage[] } {
  const posted: QueuedMessage[] = [];
  return {
    posted,
    post: async (message) => {
      posted.push(message);
      return String(posted.length);
    },
  };
}

describe('a schedule whose slots cannot be computed', () => {
  it('is logged as an error and posted as a notice to the alert channel, and the other jobs keep their schedules', async () => {
    const logs: string[] = [];
    const logDestination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    // config.ts refuses such a setting; here it is forced past it, as a bug or a library change would.
    const config = { ...parseConfig({ STATE_DB: ':memory:', ALERT_CHANNEL_ID: '123456789012345678' }), CRON_DNS_DRIFT: '0 0 30 2 *' };
    const runtime = createRuntime({ config, secrets: [], logLevel: 'info', logDestination, now: () => new Date('2026-03-02T10:00:00') });
    const scheduler = new Scheduler(runtime, { delivery: { pollMs: 60_000 } });
    const poster = keepingPoster();
    try {
      scheduler.start({ poster });
      // Queued for the alert channel (delivered or not yet: the delivery runs on its own).
      const queued = runtime.database().prepare('SELECT channel_id AS channelId, kind, body FROM outbox').all() as Array<{
        channelId: string;
        kind: string;
        body: string;
      }>;
      expect(queued.map((row) => ({ ...row, body: JSON.parse(row.body) as unknown }))).toMatchObject([
        { channelId: '123456789012345678', kind: 'notice', body: { type: 'notice' } },
      ]);
      const notice = JSON.parse(queued[0]?.body ?? '{}') as { text: string };
      expect(notice.text).toContain(
        'dns-drift no longer runs on its schedule: The schedule "0 0 30 2 *" cannot be followed: Invalid explicit day of month definition.'
      );
      expect(notice.text).toContain('mailops run-job dns-drift');
      const errors = logs
        .map((line) => JSON.parse(line) as { level: number; job?: string; msg: string })
        .filter((entry) => entry.level >= 50);
      expect(errors).toMatchObject([{ job: 'dns-drift', msg: expect.stringContaining('no longer runs on its schedule') }]);
      // The others were followed: their first slot is recorded as handled.
      const handled = runtime
        .database()
        .prepare('SELECT job FROM job_slots ORDER BY job')
        .all()
        .map((row) => (row as { job: string }).job);
      expect(handled).toEqual(['cert-watch', 'digest', 'dkim-retire', 'health', 'reports']);
    } finally {
      await scheduler.stop();
      await runtime.close();
    }
  });
});

describe('an outbox of an earlier version', () => {
  it('keeps the messages it had already rendered, and delivers them as they were stored', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'mailops-outbox-'));
    const file = path.join(directory, 'state.db');
    try {
      // The database as the version before `outbox-outcomes` left it, with a message waiting.
      const old = new DatabaseSync(file);
      old.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
      for (const migration of migrations.slice(
        0,
        migrations.findIndex((entry) => entry.name === 'outbox-outcomes')
      )) {
        old.exec(migration.sql);
        old.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(migration.name, new Date().toISOString());
      }
      const rendered = {
        content: '🔀 <@&7> **DNS drift in example.com: 1 record**',
        embeds: [{ title: 'DNS drift in example.com: 1 record' }],
        allowed_mentions: { parse: [], roles: ['7'] },
      };
      old
        .prepare(
          "INSERT INTO outbox (channel_id, nonce, kind, body, created_at) VALUES ('1', 'old-nonce', 'drift', ?, '2026-03-01T00:00:00.000Z')"
        )
        .run(JSON.stringify(rendered));
      old.close();

      const database = openDatabase(file);
      const poster = keepingPoster();
      const delivery = new OutboxDelivery(
        database,
        poster,
        createRuntime({ config: parseConfig({}), secrets: [], logLevel: 'silent' }).logger
      );
      expect(await delivery.deliver()).toMatchObject({ holding: true, delivered: 1, waiting: 0 });
      await delivery.stop();
      expect(poster.posted).toEqual([{ channelId: '1', nonce: 'old-nonce', item: { type: 'rendered', body: rendered } }]);
      database.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
