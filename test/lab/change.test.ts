// How every change runs (src/ops/change.ts) against a real host: recorded when it starts and ends, recomputed when
// the host refuses it as based on stale content, and found interrupted by the next change when its process died.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { mailHostFromConfig, type MailHost } from '../../src/host/mail-host.ts';
import { createLogger, Redactor } from '../../src/log.ts';
import { applyChange, type ChangeContext } from '../../src/ops/change.ts';
import { auditEntries } from '../../src/store/audit.ts';
import { openDatabase } from '../../src/store/database.ts';
import { startLab, type Lab } from './lab.ts';

let lab: Lab;
let host: MailHost;
let context: ChangeContext;
let aliases: string;

beforeAll(async () => {
  lab = await startLab({ dns: false });
  host = mailHostFromConfig(parseConfig(lab.env), createLogger({ level: 'silent', redactor: new Redactor() }));
  context = {
    host,
    chasquidDir: lab.chasquidDir,
    database: openDatabase(':memory:'),
    logger: createLogger({ level: 'silent', redactor: new Redactor() }),
    actor: 'cli:tester',
    now: () => new Date(),
  };
  aliases = path.join(lab.chasquidDir, 'domains', 'change.test', 'aliases');
  mkdirSync(path.dirname(aliases), { recursive: true });
});

afterAll(async () => {
  await host?.close();
  await lab?.stop();
});

/** A change that appends a line to the aliases file — read, edited, written — with `meddle` run in between. */
function appendLine(line: string, meddle: (attempt: number) => void) {
  let attempt = 0;
  return applyChange(context, { operation: 'alias-set', target: line }, async () => {
    attempt += 1;
    const content = (await host.files.read(aliases))?.toString() ?? '';
    meddle(attempt);
    await host.files.writeAtomic(aliases, `${content}${line}\n`);
    return { result: attempt, changedFiles: [aliases] };
  });
}

describe('a change', () => {
  it('is computed anew when the file changed after it was read, and keeps both edits', async () => {
    writeFileSync(aliases, 'first: a@example.test\n');
    const attempts = await appendLine('ours: b@example.test', (attempt) => {
      if (attempt === 1) writeFileSync(aliases, 'first: a@example.test\nby-hand: c@example.test\n');
    });
    expect(attempts).toBe(2);
    expect(readFileSync(aliases, 'utf8')).toBe('first: a@example.test\nby-hand: c@example.test\nours: b@example.test\n');
    expect(auditEntries(context.database, 2).map((entry) => entry.outcome)).toEqual(['ok', 'started']);
  });

  it('stops with exit 4 after three conflicts, nothing of it applied', async () => {
    writeFileSync(aliases, 'first: a@example.test\n');
    const error = await appendLine('never: d@example.test', (attempt) =>
      writeFileSync(aliases, `first: a@example.test\nedit${attempt}: e@example.test\n`)
    ).then(
      () => undefined,
      (caught: unknown) => caught
    );
    expect(error).toMatchObject({ code: 'host-conflict', exitCode: 4 });
    expect(readFileSync(aliases, 'utf8')).toBe('first: a@example.test\nedit3: e@example.test\n');
    expect(auditEntries(context.database, 1)[0]).toMatchObject({ operation: 'alias-set', outcome: 'failed', detail: 'host-conflict' });
  });

  it('left unfinished by a process that died is audited as interrupted by the next one', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid ?? 999_999;
    context.database
      .prepare('INSERT INTO operations (operation, target, actor, pid, started_at) VALUES (?, ?, ?, ?, ?)')
      .run('dkim-rotate', 'example.test', 'cli:someone', dead, new Date().toISOString());
    await appendLine('after: f@example.test', () => undefined);
    const entries = auditEntries(context.database, 10);
    expect(entries).toContainEqual(expect.objectContaining({ operation: 'dkim-rotate', target: 'example.test', outcome: 'interrupted' }));
    const row = context.database.prepare("SELECT outcome FROM operations WHERE operation = 'dkim-rotate'").get() as { outcome: string };
    expect(row.outcome).toBe('interrupted');
  });

  it('leaves a chasquid.conf that chasquid would refuse uncommitted, and commits its own file', async () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', lab.chasquidDir, '-c', 'user.name=seed', '-c', 'user.email=seed@example.test', ...args], {
        encoding: 'utf8',
      });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'seed');
    const conf = path.join(lab.chasquidDir, 'chasquid.conf');
    const good = readFileSync(conf, 'utf8');
    writeFileSync(conf, `${good}garbage\n`);
    const fresh = mailHostFromConfig(parseConfig(lab.env), createLogger({ level: 'silent', redactor: new Redactor() }));
    try {
      await applyChange({ ...context, host: fresh }, { operation: 'alias-set', target: 'kept@change.test' }, async () => {
        const content = (await fresh.files.read(aliases))?.toString() ?? '';
        await fresh.files.writeAtomic(aliases, `${content}kept: g@example.test\n`);
        return { result: undefined, changedFiles: [aliases] };
      });
    } finally {
      await fresh.close();
      writeFileSync(conf, good);
    }
    expect(git('log', '-1', '--format=%s')).toBe('mailops alias-set kept@change.test (by cli:tester)\n');
    expect(git('show', '--name-only', '--format=', 'HEAD').trim()).toBe('domains/change.test/aliases');
    expect(git('log', '--format=%s')).not.toContain('Changes found');
  });
});
