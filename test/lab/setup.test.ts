// `mailops setup` end to end: a fresh host (chasquid without a certificate, so not running) and a zone holding only
// its SOA, NS and the host's address. Without --yes nothing changes (exit 3); with it every record is published (read
// back from Knot), a certificate installed, DKIM signing, the aliases and the sender made (SMTP AUTH works), and the
// check passes what the lab can pass (not TLS: pebble's roots are trusted by nobody); a second run changes nothing.

import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { canAuthenticate } from '../smtp.ts';
import { waitFor } from '../wait.ts';
import { txt, zone } from './check-zones.ts';
import { armFault, reachedBy, startCli } from './fault-points.ts';
import { startLab, type ChasquidBuild, type Lab } from './lab.ts';
import { treeFingerprint } from './tree.ts';

const domain = 'example.test';

/** Pebble's issuing root of this run (PEM), from its management interface: what the installed chain leads to. */
function pebbleRoot(lab: Lab): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(`https://127.0.0.1:${lab.ports.acmeManagement}/roots/0`, { ca: readFileSync(lab.acmeCaFile) }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}
const args = ['setup', domain, '--forward-to', 'me@gmail.example', '--sender', `me@${domain}`];

interface SetupJson {
  ok: boolean;
  steps: Array<{ id: string; status: string; detail: string }>;
  password?: { address: string; password: string };
  check: { checks: Array<{ id: string; status: string; port?: number }> };
  remaining: string[];
}

describe.each(['1.11', '1.15'] as ChasquidBuild[])('setup on a fresh chasquid %s', (build) => {
  let lab: Lab;
  const zoneNow = () => lab.knotc('zone-read', domain);
  // The lease directory is rewritten by every run that looks for a lock; it is not the configuration.
  const tree = () => treeFingerprint(lab.chasquidDir).filter((entry) => !entry.startsWith('.mailops-state'));

  beforeAll(async () => {
    lab = await startLab({
      chasquid: build,
      acme: true,
      certificate: false,
      domains: [domain, 'other.test', 'caa.test', 'caaother.test'],
      createDomainDirs: false,
      zones: {
        [domain]: zone(domain, ['mail A 127.0.0.1']),
        // CAA: none at all; and a record for another CA only.
        'caa.test': zone('caa.test', []),
        'caaother.test': zone('caaother.test', ['@ CAA 0 issue "sectigo.com"']),
        // A domain that already sends through another provider, which its SPF record includes.
        'other.test': zone('other.test', [txt('@', 'v=spf1 include:_spf.provider.test -all')]),
        'provider.test': zone('provider.test', [txt('_spf', 'v=spf1 ip4:192.0.2.0/24 -all')]),
      },
    });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('without --yes shows the plan, exits 3 and changes nothing', async () => {
    const [treeBefore, zoneBefore] = [tree(), await zoneNow()];
    const result = await runCli([...args, '--env-file', lab.envFile]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`add ${domain} MX: (none) → "10 mail.${domain}."`);
    expect(result.stderr).toContain(`_dmarc.${domain} TXT`);
    expect(tree()).toEqual(treeBefore);
    expect(await zoneNow()).toBe(zoneBefore);
  });

  it('with --yes publishes every record, installs a certificate, signs with DKIM, makes the aliases and the sender', async () => {
    const result = await runCli([...args, '--yes', '--json', '--env-file', lab.envFile]);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as SetupJson;
    expect(Object.fromEntries(report.steps.map((step) => [step.id, step.status]))).toEqual({
      dns: 'done',
      domain: 'done',
      certificate: 'done',
      sender: 'done',
      aliases: 'done',
      'catch-all': 'done',
      reports: 'done',
      dkim: 'done',
    });
    const records = await zoneNow();
    expect(records).toContain(`${domain}. 3600 MX 10 mail.${domain}.`);
    expect(records).toMatch(new RegExp(`${domain}\\. 3600 TXT "v=spf1 mx -all"`));
    expect(records).toContain(`_dmarc.${domain}. 3600 TXT "v=DMARC1; p=quarantine; rua=mailto:mailops-reports@${domain}"`);
    expect(records).toContain(`_smtp._tls.${domain}. 3600 TXT "v=TLSRPTv1; rua=mailto:mailops-reports@${domain}"`);
    expect(records).toMatch(/_domainkey/);

    const statuses = Object.fromEntries(
      report.check.checks.map((check) => [check.port === undefined ? check.id : `tls:${check.port}`, check.status])
    );
    for (const id of ['mx', 'mx-address', 'ptr', 'spf', 'dkim', 'dmarc', 'tls-rpt', 'e2e'])
      expect([id, statuses[id]]).toEqual([id, 'pass']);

    const aliases = JSON.parse((await runCli(['aliases', domain, '--json', '--env-file', lab.envFile])).stdout) as {
      aliases: Array<{ address: string; targets: string[] }>;
    };
    const byAddress = Object.fromEntries(aliases.aliases.map((alias) => [alias.address, alias.targets]));
    expect(byAddress[`postmaster@${domain}`]).toEqual(['me@gmail.example']);
    expect(byAddress[`abuse@${domain}`]).toEqual(['me@gmail.example']);
    expect(byAddress[`*@${domain}`]).toEqual(['me@gmail.example']);
    // The report address that DMARC and TLS-RPT name: mailops's pipe to its spool.
    expect(byAddress[`mailops-reports@${domain}`]?.[0]).toMatch(/^\| \S+\/\.mailops-bin\/report-spool \S+\/mailops-reports$/);
    expect(report.password?.address).toBe(`me@${domain}`);
    const diff = await runCli(['dns-diff', domain, '--json', '--env-file', lab.envFile]);
    expect([diff.code, (JSON.parse(diff.stdout) as { drift: unknown[] }).drift]).toEqual([0, []]);
    expect(await canAuthenticate(lab, `me@${domain}`, report.password?.password ?? '', await pebbleRoot(lab))).toBe(true);
  });

  it('a second run changes nothing: every step unchanged, host tree and zone identical', async () => {
    const [treeBefore, zoneBefore] = [tree(), await zoneNow()];
    const result = await runCli([...args, '--yes', '--json', '--env-file', lab.envFile]);
    const report = JSON.parse(result.stdout) as SetupJson;
    expect(report.steps.map((step) => [step.id, step.status])).toEqual(report.steps.map((step) => [step.id, 'unchanged']));
    expect(report.password).toBeUndefined();
    expect(tree()).toEqual(treeBefore);
    expect(await zoneNow()).toBe(zoneBefore);
  });

  it('keeps the include of an SPF record that authorises another provider, and adds the mail host to it', async () => {
    const result = await runCli(['setup', 'other.test', '--forward-to', 'me@gmail.example', '--yes', '--json', '--env-file', lab.envFile]);
    const report = JSON.parse(result.stdout) as SetupJson & { plan: { records: Array<{ name: string; type: string; action: string }> } };
    expect(report.plan.records.find((record) => record.name === 'other.test' && record.type === 'TXT')?.action).toBe('change');
    const spf = await lab.knotc('zone-read', 'other.test', 'other.test.', 'TXT');
    expect(spf).toContain('"v=spf1 include:_spf.provider.test mx -all"');
    expect(spf.match(/v=spf1/g)).toHaveLength(1);
    // The mail host passes SPF now; the check may still warn that the include lets a whole /24 send: that is theirs.
    expect(report.check.checks.find((check) => check.id === 'spf')?.status).not.toBe('fail');
  });

  describe('CAA, with a CA whose CAA identity mailops knows (pebble has none; the certificate is installed, not due)', () => {
    // Let's Encrypt's directory is only named, never reached: the installed certificate is not due for renewal.
    const envFile = () => {
      const file = path.join(lab.dir, 'letsencrypt.env');
      writeFileSync(
        file,
        readFileSync(lab.envFile, 'utf8').replace(/^ACME_DIRECTORY=.*$/m, 'ACME_DIRECTORY=https://acme-v02.api.letsencrypt.org/directory')
      );
      return file;
    };
    const setupOf = async (name: string) =>
      JSON.parse(
        (await runCli(['setup', name, '--forward-to', 'me@gmail.example', '--yes', '--json', '--env-file', envFile()])).stdout
      ) as SetupJson & {
        plan: { records: Array<{ name: string; type: string; action: string; old: string[]; new: string[] }> };
      };
    const caaCheck = (report: SetupJson) => report.check.checks.find((check) => check.id === 'caa')?.status;

    it('publishes the record the caa check recommends when there is none; the check passes; a second run changes nothing', async () => {
      const report = await setupOf('caa.test');
      expect(report.plan.records.filter((record) => record.type === 'CAA')).toEqual([
        expect.objectContaining({ name: 'caa.test', action: 'add', old: [], new: ['0 issue "letsencrypt.org"'] }),
      ]);
      expect(report.steps.find((step) => step.id === 'dns')?.detail).toContain('caa.test CAA');
      expect(await lab.knotc('zone-read', 'caa.test', 'caa.test.', 'CAA')).toContain('caa.test. 3600 CAA 0 issue "letsencrypt.org"');
      expect(caaCheck(report)).toBe('pass');

      const zoneBefore = await lab.knotc('zone-read', 'caa.test');
      const again = await setupOf('caa.test');
      expect(again.plan.records.filter((record) => record.type === 'CAA').map((record) => record.action)).toEqual(['keep']);
      expect(again.steps.find((step) => step.id === 'dns')?.status).toBe('unchanged');
      expect(await lab.knotc('zone-read', 'caa.test')).toBe(zoneBefore);
    });

    it("adds an issue record for the CA beside a CAA record for another CA, keeping the operator's", async () => {
      const report = await setupOf('caaother.test');
      expect(report.plan.records.filter((record) => record.type === 'CAA')).toEqual([
        expect.objectContaining({
          name: 'caaother.test',
          action: 'add',
          old: ['0 issue "sectigo.com"'],
          new: ['0 issue "sectigo.com"', '0 issue "letsencrypt.org"'],
        }),
      ]);
      const caa = await lab.knotc('zone-read', 'caaother.test', 'caaother.test.', 'CAA');
      expect(caa).toContain('caaother.test. 3600 CAA 0 issue "sectigo.com"');
      expect(caa).toContain('caaother.test. 3600 CAA 0 issue "letsencrypt.org"');
      expect(caaCheck(report)).toBe('pass');
    });
  });
});

describe('setup interrupted (mailops killed) and run again', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({
      chasquid: '1.15',
      acme: true,
      certificate: false,
      domains: [domain],
      createDomainDirs: false,
      zones: { [domain]: zone(domain, ['mail A 127.0.0.1']) },
    });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('killed while installing the certificate, then while writing the aliases: the next run completes', { timeout: 900_000 }, async () => {
    const certificate = path.join(lab.chasquidDir, 'certs', lab.hostname, 'fullchain.pem');
    const aliases = path.join(lab.chasquidDir, 'domains', domain, 'aliases');
    for (const file of [certificate, aliases]) {
      const point = armFault(lab, { program: 'mv', verb: 'apply', arguments: [file] });
      const cli = startCli([...args, '--yes', '--json', '--env-file', lab.envFile]);
      const reached = await reachedBy(point, cli);
      cli.kill();
      expect((await cli.done).signal).toBe('SIGKILL');
      reached.release();
    }

    const again = await runCli([...args, '--yes', '--json', '--env-file', lab.envFile]);
    const report = JSON.parse(again.stdout) as SetupJson;
    expect(report.steps.map((step) => [step.id, step.status]).filter(([, status]) => status === 'needs-you')).toEqual([]);
    const statuses = Object.fromEntries(report.check.checks.map((check) => [check.id, check.status]));
    for (const id of ['mx', 'spf', 'dkim', 'dmarc', 'tls-rpt', 'e2e']) expect([id, statuses[id]]).toEqual([id, 'pass']);
    const listed = JSON.parse((await runCli(['aliases', domain, '--json', '--env-file', lab.envFile])).stdout) as {
      aliases: Array<{ address: string }>;
    };
    expect(listed.aliases.map((alias) => alias.address)).toEqual(
      expect.arrayContaining([`postmaster@${domain}`, `abuse@${domain}`, `*@${domain}`])
    );

    const last = JSON.parse((await runCli([...args, '--yes', '--json', '--env-file', lab.envFile])).stdout) as SetupJson;
    expect(last.steps.map((step) => [step.id, step.status])).toEqual(last.steps.map((step) => [step.id, 'unchanged']));
  });
});

describe('setup with DNS published by hand (DNS_PROVIDER=manual, --wait)', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({
      chasquid: '1.15',
      acme: true,
      certificate: false,
      domains: [domain],
      createDomainDirs: false,
      zones: { [domain]: zone(domain, ['mail A 127.0.0.1']) },
    });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it(
    "shows the plan's records as one block with panel values, waits once for all of them, and completes",
    { timeout: 600_000 },
    async () => {
      const envFile = path.join(lab.dir, 'manual.env');
      writeFileSync(envFile, readFileSync(lab.envFile, 'utf8').replace(/^DNS_PROVIDER=.*$/m, 'DNS_PROVIDER=manual'));
      const cli = startCli([...args, '--yes', '--wait', '--json', '--env-file', envFile]);
      // The operator: publishes each zone-file line the first time it is shown (a line shown again asks for removal).
      const seen = new Set<string>();
      let ended = false;
      const done = cli.done.finally(() => {
        ended = true;
      });
      const shown = () =>
        cli
          .stderr()
          .split('\n')
          .map((line) => /^\s*(\S+)\.\s+(\d+)\s+IN\s+(TXT|MX|A|AAAA)\s+(.+)$/.exec(line))
          .filter((match): match is RegExpExecArray => match !== null && !seen.has(match[0].trim()));
      while (!ended) {
        await waitFor('mailops to show a record to publish, or to end', () => ended || shown().length > 0, { timeoutMs: 300_000 });
        for (const match of shown()) {
          seen.add(match[0].trim());
          const [, name, ttl, type, value] = match as unknown as [string, string, string, string, string];
          const data = type === 'TXT' ? (value.match(/"(?:[^"\\]|\\.)*"/g) ?? []) : value.split(/\s+/);
          await lab.knotc('zone-begin', domain);
          await lab.knotc('zone-set', domain, `${name}.`, ttl, type, ...data);
          await lab.knotc('zone-commit', domain);
        }
      }
      const run = await done;
      expect(run.stderr.match(/Publish these \d+ DNS records/g)).toEqual(['Publish these 4 DNS records']);
      expect(run.stderr).toContain(`name ${domain}, type MX, value 10 mail.${domain}.`);
      const report = JSON.parse(run.stdout) as SetupJson;
      expect(Object.fromEntries(report.steps.map((step) => [step.id, step.status]))).toMatchObject({
        dns: 'done',
        certificate: 'done',
        dkim: 'done',
      });
      const statuses = Object.fromEntries(report.check.checks.map((check) => [check.id, check.status]));
      for (const id of ['mx', 'spf', 'dkim', 'dmarc', 'tls-rpt', 'e2e']) expect([id, statuses[id]]).toEqual([id, 'pass']);
    }
  );
});
