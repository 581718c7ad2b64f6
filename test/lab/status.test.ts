// `mailops status` end to end: the real CLI, over SSH with the pinned key, against both chasquid builds.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { deliverOnceAccepted } from '../smtp.ts';
import { processGone, waitFor } from '../wait.ts';
import { startLab, type ChasquidBuild, type Lab } from './lab.ts';

const expectations: Record<ChasquidBuild, { version: RegExp; dkimLayout: string }> = {
  '1.11': { version: /^1\.11/, dkimLayout: 'hook' },
  '1.15': { version: /^1\.15\.0/, dkimLayout: 'builtin' },
};

describe.each(['1.11', '1.15'] as const)('mailops status against chasquid %s', (build) => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({ chasquid: build, domains: ['example.test', 'example.org'], dns: false });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('prints the version, DKIM layout, service state, domains and certificates', async () => {
    const run = await runCli(['status', '--env-file', lab.envFile]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`chasquid\\s+${expectations[build].version.source.slice(1)}`));
    expect(run.stdout).toContain(expectations[build].dkimLayout === 'hook' ? 'post-data hook with dkimsign' : 'built-in signing');
    expect(run.stdout).toContain(`running (pid ${lab.chasquidPid()} as chasquid)`);
    expect(run.stdout).toContain('example.org, example.test');
    expect(run.stdout).toContain(`${lab.hostname} (expires`);
  });

  it('gives the same facts as JSON with --json', async () => {
    const run = await runCli(['status', '--json', '--env-file', lab.envFile]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.chasquid.version).toMatch(expectations[build].version);
    expect(result.chasquid.dkimLayout).toBe(expectations[build].dkimLayout);
    expect(result.service.running).toBe(true);
    expect(result.service.processes).toEqual([{ pid: lab.chasquidPid(), user: 'chasquid' }]);
    expect(result.domains).toEqual(['example.org', 'example.test']);
    expect(result.certificates.map((certificate: { name: string }) => certificate.name)).toEqual([lab.hostname]);
    expect(result.certificates[0].daysLeft).toBeGreaterThan(89);
    expect(result.hostname).toBe(lab.hostname);
    expect(result.queue).toEqual({ messages: 0 });
  });

  it("counts the messages waiting in chasquid's queue", async () => {
    expect((await runCli(['user-add', 'alice@example.test', '--env-file', lab.envFile])).code).toBe(0);
    expect((await runCli(['alias-set', 'forward@example.test', 'someone@unreachable.invalid', '--env-file', lab.envFile])).code).toBe(0);
    await deliverOnceAccepted(lab, 'sender@elsewhere.invalid', 'forward@example.test', 'stuck in the queue');
    const run = await runCli(['status', '--json', '--env-file', lab.envFile]);
    expect(JSON.parse(run.stdout).queue).toEqual({ messages: 1 });
  });

  it('shows how each scheduled job last ended', async () => {
    expect(JSON.parse((await runCli(['status', '--json', '--env-file', lab.envFile])).stdout).jobs).toEqual([]);
    const job = await runCli(['run-job', 'dkim-retire', '--json', '--env-file', lab.envFile]);
    expect(job.code).toBe(0);
    const run = await runCli(['status', '--json', '--env-file', lab.envFile]);
    expect(JSON.parse(run.stdout).jobs).toEqual([expect.objectContaining({ job: 'dkim-retire', outcome: 'ok', alerts: 0 })]);
    expect((await runCli(['status', '--env-file', lab.envFile])).stdout).toMatch(/Jobs\s+dkim-retire: ok at /);
  });

  it('reports a stopped daemon as not running', async () => {
    writeFileSync(path.join(lab.dir, 'run/stop'), '');
    const pid = lab.chasquidPid();
    process.kill(pid, 'SIGTERM');
    await waitFor('chasquid to exit', () => processGone(pid));
    const run = await runCli(['status', '--json', '--env-file', lab.envFile]);
    expect(JSON.parse(run.stdout).service.running).toBe(false);
  });
});
