// Fault drills of the reports job (issue 16): mailops SIGKILLed after a report was stored but before its discard ran,
// the SSH connection dropped during a discard, and two runs started at once. Each drill then asks what is really there
// (the spool on the host, `mailops reports --json`): nothing stored twice, nothing left in the spool.
//
// The fault point of a discard is its `setpriv` (mailops-host runs `rm` through it as chasquid's user): a wrapper for
// `rm` itself runs as that user, who cannot read the lab's fault directory, so it would never stop.

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.ts';
import { runCli, type CliRun } from '../cli.ts';
import { googleZipReport, plainXmlReport } from '../reports/fixtures.ts';
import { deliverRawOnceAccepted } from '../smtp.ts';
import { processGone, waitFor } from '../wait.ts';
import { armFault, reachedBy, startCli } from './fault-points.ts';
import { startLab, type Lab } from './lab.ts';

const domain = 'example.test';
const to = `mailops-reports@${domain}`;

interface JobJson {
  ok: boolean;
  stored: { dmarc: number; tlsrpt: number };
  duplicates: number;
  setAside: unknown[];
}

describe('the reports job under faults', () => {
  let lab: Lab;
  const spool = () => path.join(lab.dir, 'var/lib/chasquid/mailops-reports');
  const spooled = () => readdirSync(spool()).filter((name) => name.endsWith('.eml'));
  const cli = (...args: string[]): Promise<CliRun> => runCli(args, { cwd: lab.dir, env: lab.env });
  const job = async () => {
    const run = await cli('run-job', 'reports', '--json');
    return { run, json: JSON.parse(run.stdout || '{}') as JobJson };
  };
  const totals = async () =>
    (JSON.parse((await cli('reports', domain, '--json')).stdout) as { dmarc: { reports: number; messages: number } }).dmarc;
  /** What a killed run's job lease does after 2 minutes: it runs out. */
  const expireJobLease = () => {
    const database = openDatabase(lab.env.STATE_DB ?? '');
    try {
      database.prepare("UPDATE leases SET expires_at = 0 WHERE name = 'job:reports'").run();
    } finally {
      database.close();
    }
  };
  const period = () => ({ begin: new Date(Date.now() - 2 * 86_400_000), end: new Date(Date.now() - 3_600_000) });
  const mail = async (reports: Buffer[]) => {
    const before = spooled().length;
    for (const raw of reports) await deliverRawOnceAccepted(lab, 'reporter@sender.invalid', to, raw);
    await waitFor('chasquid to spool the reports', () => spooled().length === before + reports.length || undefined, {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
  };

  beforeAll(async () => {
    lab = await startLab({ chasquid: '1.15', domains: [domain] });
    const first = await job();
    expect(first.json.ok, first.run.stdout + first.run.stderr).toBe(true);
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('a run killed after storing a report, before its discard, is finished by the next run: nothing twice, spool empty', async () => {
    await mail([
      googleZipReport({
        to,
        domain,
        reportId: 'kill-1',
        ...period(),
        records: [{ sourceIp: '198.51.100.7', count: 7, dkim: 'pass', spf: 'pass' }],
      }),
      plainXmlReport({
        to,
        domain,
        reportId: 'kill-2',
        ...period(),
        records: [{ sourceIp: '198.51.100.8', count: 5, dkim: 'pass', spf: 'pass' }],
      }),
    ]);
    const point = armFault(lab, { program: 'setpriv', verb: 'discard' });
    const running = startCli(['run-job', 'reports', '--json'], lab.env);
    const reached = await reachedBy(point, running);
    running.kill();
    reached.killHost();
    const killed = await running.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(processGone(reached.hostPid)).toBe(true);
    // The first report is stored, its message still in the spool; the second not read yet.
    expect(spooled()).toHaveLength(2);
    expect(await totals()).toMatchObject({ reports: 1, messages: 7 });

    expect((await job()).run.code).toBe(1); // its lease still holds: busy
    expireJobLease();
    const next = await job();
    expect(next.json.stored, next.run.stderr).toEqual({ dmarc: 1, tlsrpt: 0 });
    expect(next.json.duplicates).toBe(1);
    expect(spooled()).toEqual([]);
    expect(await totals()).toMatchObject({ reports: 2, messages: 12 });
  }, 300_000);

  it('an SSH connection dropped during a discard: the job reconnects or the next run discards; nothing twice', async () => {
    await mail([
      googleZipReport({
        to,
        domain,
        reportId: 'drop-1',
        ...period(),
        records: [{ sourceIp: '198.51.100.9', count: 3, dkim: 'pass', spf: 'pass' }],
      }),
    ]);
    const point = armFault(lab, { program: 'setpriv', verb: 'discard' });
    const pending = job();
    const reached = await point.reached();
    await lab.dropSshConnections();
    reached.release();
    const dropped = await pending;
    expect(dropped.json.duplicates ?? 0).toBe(0);
    const again = await job();
    expect(again.json.stored).toEqual({ dmarc: 0, tlsrpt: 0 });
    expect(spooled()).toEqual([]);
    expect(await totals()).toMatchObject({ reports: 3, messages: 15 });
  }, 300_000);

  it('two runs started at once: one runs, the other says it is busy; nothing stored twice', async () => {
    await mail([
      googleZipReport({
        to,
        domain,
        reportId: 'twice-1',
        ...period(),
        records: [{ sourceIp: '198.51.100.10', count: 2, dkim: 'pass', spf: 'pass' }],
      }),
    ]);
    const [one, two] = await Promise.all([job(), job()]);
    const runs = [one, two];
    expect(runs.map((entry) => entry.run.code).sort()).toEqual([0, 1]);
    const busy = runs.find((entry) => entry.run.code === 1);
    expect(busy?.run.stderr).toContain('reports is running right now');
    expect(runs.find((entry) => entry.run.code === 0)?.json.stored).toEqual({ dmarc: 1, tlsrpt: 0 });
    expect(spooled()).toEqual([]);
    expect(await totals()).toMatchObject({ reports: 4, messages: 17 });
  }, 300_000);
});
