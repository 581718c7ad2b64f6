// `check` and the health job when the mail host cannot be reached (MAIL_HOST names a port nothing listens on), against
// the lab's Knot: the SSH error is said once, the checks that need only DNS still run, what needs the host is
// "unknown" (also in the Gmail/Yahoo/Outlook line), and the health job's alert does not repeat the error per check.
// With the host reachable, the job's JSON names each failing check with its port.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { freePorts, startLab, type Lab } from './lab.ts';

const domains = ['example.test', 'example.org'];
let lab: Lab;
let unreachable: Record<string, string>;

beforeAll(async () => {
  lab = await startLab({ domains });
  const [closed] = await freePorts(1);
  unreachable = { MAIL_HOST: `ssh://root@127.0.0.1:${closed}` };
});

afterAll(async () => {
  await lab?.stop();
});

describe('check against a mail host that cannot be reached', () => {
  it('says so once (exit 1), reports the DNS-only checks, and calls the rest unknown', async () => {
    const run = await runCli(['check', 'example.test', '--env-file', lab.envFile], { env: unreachable });
    expect(run.code).toBe(1);
    expect(run.stdout.match(/Cannot connect to the mail host/g)).toHaveLength(1);
    expect(run.stdout.match(/ECONNREFUSED/g)).toHaveLength(1);
    expect(run.stdout).toMatch(/^PASS {2}dmarc /m);
    expect(run.stdout).toMatch(/^SKIP {2}tls-rpt /m);
    // CAA needs only DNS: the lab's zone has none, a warning.
    expect(run.stdout).toMatch(/^WARN {2}caa /m);
    expect(run.stdout).toContain('Unknown, because they need the mail host: mx, mx-address, ptr, spf, dkim, mta-sts, tls, dnsbl, e2e.');
    expect(run.stdout).not.toMatch(/^(FAIL|TEMP) /m);
    expect(run.stdout).toContain(
      'Gmail: unknown (SPF, DKIM, reverse DNS, TLS could not be checked) · Yahoo: unknown (SPF, DKIM, reverse DNS, TLS could not be checked) · Outlook: unknown (SPF, DKIM could not be checked)'
    );
    expect(run.stdout).not.toContain('not met');
  }, 60_000);

  it('in JSON: the error once as hostError, each check that needs the host marked needsHost, the providers unknown', async () => {
    const run = await runCli(['check', 'example.test', '--json', '--env-file', lab.envFile], { env: unreachable });
    expect(run.code).toBe(1);
    const body = JSON.parse(run.stdout);
    expect(body).toMatchObject({ domain: 'example.test', ok: false, hostError: { code: 'host-unreachable' } });
    expect(body.requirements.gmail).toEqual({ status: 'unknown', met: false, missing: [], unknown: ['SPF', 'DKIM', 'reverse DNS', 'TLS'] });
    const needsHost = body.checks.filter((result: { needsHost?: boolean }) => result.needsHost).map((result: { id: string }) => result.id);
    expect(needsHost).toEqual(['mx', 'mx-address', 'ptr', 'spf', 'dkim', 'mta-sts', 'tls', 'dnsbl', 'e2e']);
    expect(body.checks.find((result: { id: string }) => result.id === 'dmarc')).toMatchObject({ status: 'pass' });
    expect(JSON.stringify(body.checks)).not.toContain('ECONNREFUSED');
    expect(body.hostError.reachable).toBe(false);
  }, 60_000);

  it('a host whose chasquid.conf cannot be read is said once in the same way, as such', async () => {
    const run = await runCli(['check', 'example.test', '--json', '--env-file', lab.envFile], {
      env: { CHASQUID_DIR: '/nonexistent/chasquid' },
    });
    expect(run.code).toBe(1);
    const body = JSON.parse(run.stdout);
    expect(body.hostError).toMatchObject({ reachable: true, message: expect.stringContaining('/nonexistent/chasquid') });
    expect(body.checks.find((result: { id: string }) => result.id === 'dmarc')).toMatchObject({ status: 'pass' });
    expect(body.checks.filter((result: { needsHost?: boolean }) => result.needsHost).length).toBeGreaterThan(5);
    expect(JSON.stringify(body.checks)).not.toContain('/nonexistent');
  }, 60_000);
});

describe('run-job health', () => {
  it('with the host unreachable: one alert says so, not one per check and domain', async () => {
    const run = await runCli(['run-job', 'health', '--json', '--env-file', lab.envFile], { env: unreachable });
    expect(run.code).toBe(1);
    const body = JSON.parse(run.stdout);
    expect(body.alerts).toHaveLength(1);
    expect(body.alerts[0].message.match(/Cannot connect to the mail host/g)).toHaveLength(1);
    expect(body.alerts[0].message).toContain('Only the checks that need nothing but DNS ran for example.test, example.org');
    expect(body.hostError).toMatchObject({ code: 'host-unreachable', reachable: false });
    for (const domain of body.domains) {
      expect(domain).toMatchObject({ ok: false, failed: [] });
      expect(domain).not.toHaveProperty('hostError');
      expect(domain.unknown).toContainEqual({ id: 'spf' });
    }
    expect(run.stdout.match(/ECONNREFUSED/g)).toHaveLength(2); // the alert and hostError, not once per check or domain
  }, 120_000);

  it('with the host reachable: each failing check is named with its port', async () => {
    const run = await runCli(['run-job', 'health', '--json', '--env-file', lab.envFile]);
    const body = JSON.parse(run.stdout);
    // The lab's certificate comes from a CA nobody trusts: every TLS listener fails, each under its own port.
    const failed = body.domains[0].failed as Array<{ id: string; port?: number }>;
    const tls = failed.filter((entry) => entry.id === 'tls');
    expect(tls).toHaveLength(3);
    expect(new Set(tls.map((entry) => entry.port)).size).toBe(3);
    for (const entry of tls) expect(typeof entry.port).toBe('number');
    expect(body.alerts[0].message).toMatch(/failed \(.*tls \d+, tls \d+, tls \d+/);
  }, 120_000);
});
