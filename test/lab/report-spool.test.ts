// The report spool and the mail log on a real lab host, both chasquid builds: the spooler that mailops-host installs
// receives two messages sent to the report address through chasquid's SMTP port, mailops lists, reads and discards
// them; and chasquid's mail log is read piece by piece, across a rotation.

import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { mailHostFromConfig, type MailHost } from '../../src/host/mail-host.ts';
import { readMailLogPiece } from '../../src/host/mail-log.ts';
import { discardSpooledReport, installReportSpooler } from '../../src/host/report-spool.ts';
import { createLogger, Redactor } from '../../src/log.ts';
import { deliver, deliverOnceAccepted } from '../smtp.ts';
import { waitFor } from '../wait.ts';
import { startLab, type Lab } from './lab.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const logger = createLogger({ level: 'silent', redactor: new Redactor() });

describe.each(['1.11', '1.15'] as const)('the report spool and the mail log on chasquid %s', (build) => {
  let lab: Lab;
  let host: MailHost;
  let dataDir: string;
  let spoolDir: string;
  let spoolerPath: string;

  const spooled = () =>
    readdirSync(spoolDir)
      .filter((name) => name.endsWith('.eml'))
      .sort();
  /** Runs the installed spooler as chasquid's user, as chasquid's pipe alias does. */
  const runSpooler = (spool: string, message: string) =>
    spawnSync('setpriv', [`--reuid=${lab.daemon.uid}`, `--regid=${lab.daemon.gid}`, '--clear-groups', '--', spoolerPath, spool], {
      input: message,
    });

  beforeAll(async () => {
    lab = await startLab({ chasquid: build, dns: false });
    host = mailHostFromConfig(parseConfig(lab.env), logger);
    dataDir = path.join(lab.dir, 'var/lib/chasquid');
    spoolDir = path.join(dataDir, 'mailops-reports');
  });

  afterAll(async () => {
    await host?.close();
    await lab?.stop();
  });

  it('spools two messages sent to the report address; mailops lists, reads and discards them', async () => {
    spoolerPath = await host.lock.run(() => installReportSpooler(host.verbs));
    expect(spoolerPath).toBe(path.join(lab.chasquidDir, '.mailops-bin/report-spool'));
    const installed = statSync(spoolerPath);
    expect({ uid: installed.uid, gid: installed.gid, mode: installed.mode & 0o7777 }).toEqual({ uid: 0, gid: 0, mode: 0o755 });
    const binDir = statSync(path.dirname(spoolerPath));
    expect({ uid: binDir.uid, gid: binDir.gid, mode: binDir.mode & 0o7777 }).toEqual({ uid: 0, gid: 0, mode: 0o755 });
    // Installing again changes nothing (the same file, not rewritten).
    expect(await host.lock.run(() => installReportSpooler(host.verbs))).toBe(spoolerPath);
    expect(statSync(spoolerPath).ino).toBe(installed.ino);

    const aliasesFile = path.join(lab.chasquidDir, 'domains/example.test/aliases');
    await host.lock.run(async () => {
      await host.files.makeDirectory(spoolDir, { mode: 0o700, owner: 'chasquid:chasquid' });
      const current = (await host.files.read(aliasesFile))?.toString('utf8') ?? '';
      await host.files.writeAtomic(aliasesFile, `${current}mailops-reports: | ${spoolerPath} ${spoolDir}\n`);
    });
    const spool = statSync(spoolDir);
    expect({ uid: spool.uid, mode: spool.mode & 0o7777 }).toEqual({ uid: lab.daemon.uid, mode: 0o700 });

    // chasquid reloads its aliases every second in the lab: the first delivery waits until it takes the address.
    await deliverOnceAccepted(lab, 'reports@sender.invalid', 'mailops-reports@example.test', `first report ${build}`);
    await deliver(lab, 'reports@sender.invalid', 'mailops-reports@example.test', `second report ${build}`);
    await waitFor('two spooled reports', () => spooled().length === 2 || undefined, { timeoutMs: 15_000, intervalMs: 200 });

    const listed = await host.files.list(spoolDir);
    const names = (listed ?? []).filter((entry) => entry.type === 'file').map((entry) => entry.name);
    expect(names).toEqual(spooled());
    for (const name of names) {
      expect(name).toMatch(/^\d+-\d+-[0-9a-f]{16}\.eml$/);
      const file = statSync(path.join(spoolDir, name));
      expect({ uid: file.uid, mode: file.mode & 0o7777 }).toEqual({ uid: lab.daemon.uid, mode: 0o600 });
    }
    const contents = await Promise.all(
      names.map(async (name) => (await host.files.read(path.join(spoolDir, name)))?.toString('utf8') ?? '')
    );
    expect(contents.map((content, index) => content === readFileSync(path.join(spoolDir, names[index] ?? ''), 'utf8'))).toEqual([
      true,
      true,
    ]);
    expect(contents.map((content) => /Subject: (first|second) report/.exec(content)?.[1]).sort()).toEqual(['first', 'second']);

    const [discarded = '', kept = ''] = names.map((name) => path.join(spoolDir, name));
    await discardSpooledReport(host.verbs, discarded);
    expect((await host.files.list(spoolDir))?.map((entry) => entry.name)).toEqual([path.basename(kept)]);
    expect(await host.files.read(discarded)).toBeUndefined();
    // Gone already: still done.
    await discardSpooledReport(host.verbs, discarded);
    await discardSpooledReport(host.verbs, kept);
    expect(spooled()).toEqual([]);
  });

  it('the spooler refuses with 75 (chasquid tries again) when the spool is missing, and drops mail once 2000 reports wait', () => {
    const missing = runSpooler(path.join(dataDir, 'mailops-reports-missing'), 'Subject: x\n\nx\n');
    expect(missing.status).toBe(75);
    const filler = Array.from({ length: 2000 }, (_, index) => path.join(spoolDir, `filler-${index}.eml`));
    for (const file of filler) {
      writeFileSync(file, '');
      chownSync(file, lab.daemon.uid, lab.daemon.gid);
    }
    const full = runSpooler(spoolDir, 'Subject: one too many\n\nx\n');
    expect(full.status).toBe(0);
    expect(spooled()).toHaveLength(2000);
    expect(readFileSync(path.join(spoolDir, 'dropped'), 'utf8')).toMatch(/^\S+ dropped a message: the spool holds 2000 reports\n$/);
    for (const file of filler) rmSync(file);
    const big = runSpooler(spoolDir, 'x'.repeat(11 * 1024 * 1024));
    expect(big.status).toBe(0);
    const [stored = ''] = spooled();
    expect(statSync(path.join(spoolDir, stored)).size).toBe(10 * 1024 * 1024 + 1);
    expect(readdirSync(spoolDir).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('reads the mail log from where it stopped, serves the rotated tail first, then the new log', async () => {
    const log = path.join(lab.dir, 'var/log/mail.log');
    await waitFor('chasquid to have written its mail log', () => existsSync(log) && statSync(log).size > 0);
    const first = await readMailLogPiece(host.verbs, { inode: '0', offset: 0 });
    if (first.source !== 'file') throw new Error(`expected the log file, got ${first.source}`);
    const onDisk = readFileSync(log);
    expect({ inode: first.inode, start: first.start, size: first.size }).toEqual({
      inode: String(statSync(log).ino),
      start: 0,
      size: onDisk.length,
    });
    expect(first.data.equals(onDisk.subarray(0, first.size))).toBe(true);
    expect(first.data.toString('utf8')).toMatch(/\n$/);

    const end = first.start + first.data.length;
    const again = await readMailLogPiece(host.verbs, { inode: first.inode, offset: end });
    expect(again).toEqual({ source: 'file', inode: first.inode, size: end, start: end, data: Buffer.alloc(0) });

    // A rotation as logrotate does it: the log renamed to .1 (where chasquid writes until it reopens), a new log.
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, 'written just before the rotation\n');
    writeFileSync(log, 'the first line of the new log\n');
    chownSync(log, lab.daemon.uid, lab.daemon.gid);
    const tail = await readMailLogPiece(host.verbs, { inode: first.inode, offset: end });
    if (tail.source !== 'file') throw new Error(`expected the rotated file, got ${tail.source}`);
    expect({ inode: tail.inode, start: tail.start, data: tail.data.toString('utf8') }).toEqual({
      inode: first.inode,
      start: end,
      data: 'written just before the rotation\n',
    });
    const fresh = await readMailLogPiece(host.verbs, { inode: tail.inode, offset: tail.start + tail.data.length });
    if (fresh.source !== 'file') throw new Error(`expected the new log, got ${fresh.source}`);
    expect({ inode: fresh.inode, start: fresh.start, data: fresh.data.toString('utf8') }).toEqual({
      inode: String(statSync(log).ino),
      start: 0,
      data: 'the first line of the new log\n',
    });
    // A truncated log (offset past its end) is read from its start.
    const truncated = await readMailLogPiece(host.verbs, { inode: fresh.inode, offset: 10_000 });
    expect(truncated.source === 'file' && truncated.start).toBe(0);
    // At most 4 MiB at a time; the next read goes on from there.
    const mebibyte = 1024 * 1024;
    appendFileSync(log, `${'x'.repeat(5 * mebibyte - 1)}\n`);
    const large = await readMailLogPiece(host.verbs, { inode: fresh.inode, offset: 0 });
    const rest = await readMailLogPiece(host.verbs, { inode: fresh.inode, offset: 4 * mebibyte });
    expect([large, rest].map((piece) => (piece.source === 'file' ? [piece.start, piece.data.length] : piece.source))).toEqual([
      [0, 4 * mebibyte],
      [4 * mebibyte, statSync(log).size - 4 * mebibyte],
    ]);
  });

  it('says "missing" when the log file does not exist, and "syslog" when chasquid logs to syslog', async () => {
    const log = path.join(lab.dir, 'var/log/mail.log');
    renameSync(log, `${log}.aside`);
    try {
      expect(await readMailLogPiece(host.verbs, { inode: '0', offset: 0 })).toEqual({ source: 'missing' });
    } finally {
      renameSync(`${log}.aside`, log);
    }
    const conf = path.join(lab.chasquidDir, 'chasquid.conf');
    const original = readFileSync(conf, 'utf8');
    expect(original).toMatch(/^mail_log_path: /m);
    writeFileSync(conf, original.replace(/^mail_log_path: .*$/m, 'mail_log_path: "<syslog>"'));
    try {
      expect(await readMailLogPiece(host.verbs, { inode: '0', offset: 0 })).toEqual({ source: 'syslog' });
    } finally {
      writeFileSync(conf, original);
    }
  });
});
