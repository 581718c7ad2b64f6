// Certificates end to end (cert-renew, cert-status) against both chasquid builds: pebble issues through DNS-01 at the
// lab's Knot, mailops installs and restarts chasquid, and the certificate is read back from every TLS listener with
// openssl (not with mailops' own code). Broken pairs are refused before the host is touched; a chasquid that fails
// after the swap gets the previous certificate back.

import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { certRenew } from '../../src/ops/cert-renew.ts';
import { operationContext } from '../../src/ops/context.ts';
import { createRuntime } from '../../src/runtime.ts';
import { auditEntries } from '../../src/store/audit.ts';
import { openDatabase } from '../../src/store/database.ts';
import { runCli } from '../cli.ts';
import { startLab, type ChasquidBuild, type Lab } from './lab.ts';
import { servedEverywhere } from './served-chain.ts';

/** Pebble's issuing root of this run, from its management interface. */
function pebbleRoot(lab: Lab): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    https
      .get(`https://127.0.0.1:${lab.ports.acmeManagement}/roots/0`, { ca: readFileSync(lab.acmeCaFile) }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        response.on('end', () => resolve(new X509Certificate(body)));
      })
      .on('error', reject);
  });
}

function installed(lab: Lab): { fullchain: string; privkey: string } {
  const dir = path.join(lab.chasquidDir, 'certs', lab.hostname);
  return { fullchain: readFileSync(path.join(dir, 'fullchain.pem'), 'utf8'), privkey: readFileSync(path.join(dir, 'privkey.pem'), 'utf8') };
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(['1.11', '1.15'] as ChasquidBuild[])('certificates with chasquid %s', (build) => {
  let lab: Lab;
  const env = () => ({ CERT_EXTRA_NAMES: '*.example.test,example.test' });

  beforeAll(async () => {
    lab = await startLab({ chasquid: build, acme: true, domains: ['example.test'] });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('cert-status shows the installed certificate and that all three listeners serve it', async () => {
    const result = await runCli(['cert-status', '--json', '--env-file', lab.envFile]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.certificates).toHaveLength(1);
    expect(status.certificates[0]).toMatchObject({ name: lab.hostname, names: [lab.hostname], issuer: lab.hostname, renewDue: false });
    expect(status.certificates[0].daysLeft).toBeGreaterThan(89);
    expect(status.certificates[0].served).toEqual([lab.ports.smtp, lab.ports.submission, lab.ports.submissionTls]);
    const labLeaf = fingerprintOf(installed(lab).fullchain);
    for (const chain of await servedEverywhere(lab)) expect(chain[0]?.fingerprint256).toBe(labLeaf);
  });

  it('cert-renew without --force does nothing while the certificate is not due, and says so', async () => {
    const before = installed(lab);
    const pid = lab.chasquidPid();
    const result = await runCli(['cert-renew', '--json', '--env-file', lab.envFile]);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ renewed: false, name: lab.hostname });
    expect(body.reason).toMatch(/^not due: more than a third of its lifetime is left/);
    // Nothing was installed, so nothing was looked at: no `served` that would contradict cert-status's three listeners.
    expect(body).not.toHaveProperty('served');
    const text = await runCli(['cert-renew', '--env-file', lab.envFile]);
    expect(text.stdout).toContain(`Not renewed: the certificate for ${lab.hostname} is not due`);
    expect(installed(lab)).toEqual(before);
    expect(lab.chasquidPid()).toBe(pid);
  });

  it('cert-renew --force gets a certificate from pebble via Knot, installs it, and every TLS listener serves it', async () => {
    const previous = installed(lab);
    const result = await runCli(['cert-renew', '--force', '--json', '--env-file', lab.envFile], { env: env() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({
      renewed: true,
      name: lab.hostname,
      served: [lab.ports.smtp, lab.ports.submission, lab.ports.submissionTls],
    });
    expect(body.issuer).toMatch(/Pebble/i);
    expect(body.names.sort()).toEqual(['*.example.test', 'example.test', lab.hostname].sort());

    const now = installed(lab);
    const leaf = new X509Certificate(now.fullchain);
    expect(body.notAfter).toBe(new Date(leaf.validTo).toISOString());
    expect(leaf.checkPrivateKey(createPrivateKey(now.privkey))).toBe(true);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const root = await pebbleRoot(lab);
    for (const chain of await servedEverywhere(lab)) {
      expect(chain[0]?.fingerprint256).toBe(leaf.fingerprint256);
      const last = chain.at(-1) as X509Certificate;
      expect(chain.length).toBeGreaterThanOrEqual(2);
      chain.slice(1).forEach((issuer, index) => expect(chain[index]?.verify(issuer.publicKey)).toBe(true));
      expect(last.checkIssued(root) && last.verify(root.publicKey)).toBe(true);
    }
    // The key stays root-owned and readable by chasquid's group only; the previous pair is kept for a rollback.
    const keyStat = statSync(path.join(lab.chasquidDir, 'certs', lab.hostname, 'privkey.pem'));
    expect(keyStat.mode & 0o777).toBe(0o640);
    expect(keyStat.gid).toBe(lab.daemon.gid);
    const kept = path.join(lab.chasquidDir, '.mailops-backup/cert-previous', lab.hostname);
    expect(readFileSync(path.join(kept, 'fullchain.pem'), 'utf8')).toBe(previous.fullchain);
    expect(statSync(path.join(kept, 'privkey.pem')).mode & 0o777).toBe(0o600);
    // The ACME account key lives beside the state database, private.
    const accountKey = path.join(path.dirname(lab.env.STATE_DB as string), 'acme-account-key.pem');
    expect(statSync(accountKey).mode & 0o777).toBe(0o600);
    // The challenge records are gone again.
    expect(await lab.knotc('zone-read', 'example.test')).not.toContain('_acme-challenge');

    const status = JSON.parse((await runCli(['cert-status', '--json', '--env-file', lab.envFile], { env: env() })).stdout);
    expect(status.certificates[0]).toMatchObject({
      name: lab.hostname,
      renewDue: false,
      served: [lab.ports.smtp, lab.ports.submission, lab.ports.submissionTls],
    });
    expect(status.certificates[0].issuer).toMatch(/Pebble/i);
  });

  it('a second renewal reuses the ACME account key', async () => {
    const accountKey = path.join(path.dirname(lab.env.STATE_DB as string), 'acme-account-key.pem');
    const key = readFileSync(accountKey, 'utf8');
    const before = fingerprintOf(installed(lab).fullchain);
    const result = await runCli(['cert-renew', '--force', '--env-file', lab.envFile], { env: env() });
    expect(result.code).toBe(0);
    expect(fingerprintOf(installed(lab).fullchain)).not.toBe(before);
    // Why it was renewed, in its own row, without parentheses inside parentheses.
    expect(result.stdout).toMatch(/^Why +forced, although not due: more than a third of its lifetime is left/m);
    expect(result.stdout).not.toMatch(/\([^)]*\(/);
    expect(readFileSync(accountKey, 'utf8')).toBe(key);
  });

  it('refuses a pair whose key does not match, or that lacks a name, before touching the host', async () => {
    const { config, secrets } = loadConfig({ envFile: lab.envFile, cwd: lab.dir, env: { CERT_EXTRA_NAMES: '' } });
    const runtime = createRuntime({ config, secrets, logLevel: 'silent' });
    const context = operationContext(runtime, 'test');
    const database = runtime.database();
    const good = installed(lab);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const backups = () => readdirSync(path.join(lab.chasquidDir, '.mailops-backup/certs', lab.hostname)).sort();
    const backupsBefore = backups();
    const pid = lab.chasquidPid();
    const auditBefore = auditEntries(database).length;
    try {
      const broken = [
        { fullchain: good.fullchain, privkey: otherKey, expected: 'the private key does not belong to the certificate' },
        { fullchain: good.fullchain, privkey: good.privkey, names: ['mail.example.org'], expected: 'does not cover mail.example.org' },
      ];
      for (const pair of broken) {
        const error = await certRenew(
          { ...context, config: { ...config, CERT_EXTRA_NAMES: pair.names ?? [] } },
          {
            force: true,
            publishing: () => {
              throw new Error('no DNS is needed');
            },
            issue: async () => ({ fullchain: pair.fullchain, privkey: pair.privkey }),
          }
        ).then(
          () => undefined,
          (caught: unknown) => caught
        );
        expect(error).toMatchObject({ code: 'certificate-unfit' });
        expect((error as Error).message).toContain(pair.expected);
        expect((error as Error).message).toContain('Nothing on the mail host was changed');
      }
    } finally {
      await runtime.close();
    }
    expect(sha(installed(lab).privkey)).toBe(sha(good.privkey));
    expect(installed(lab).fullchain).toBe(good.fullchain);
    expect(backups()).toEqual(backupsBefore);
    expect(lab.chasquidPid()).toBe(pid);
    expect(auditEntries(openDatabase(config.STATE_DB)).length).toBe(auditBefore);
  });

  it.each(['stays-down', 'does-nothing'] as const)('puts the previous certificate back when chasquid %s after the swap', async (how) => {
    const previous = installed(lab);
    lab.breakNextRestart(how);
    const result = await runCli(['cert-renew', '--force', '--json', '--env-file', lab.envFile], { env: env() });
    expect(result.code).toBe(1);
    const body = JSON.parse(result.stdout);
    expect(body.error.code).toBe('certificate-install-rolled-back');
    expect(body.error.message).toContain(
      how === 'stays-down' ? 'chasquid did not come back after the restart' : 'serves another certificate'
    );
    expect(body.error.message).toContain(
      'The previous certificate was put back and chasquid restarted; chasquid serves the previous certificate again'
    );
    expect(result.stderr).toContain('The previous certificate was put back');
    expect(installed(lab)).toEqual(previous);
    const expected = fingerprintOf(previous.fullchain);
    for (const chain of await servedEverywhere(lab)) expect(chain[0]?.fingerprint256).toBe(expected);
  });

  it('reports a TSIG key that Knot refuses, and changes nothing', async () => {
    const before = installed(lab);
    const wrongSecret = Buffer.alloc(32, 9).toString('base64');
    const result = await runCli(['cert-renew', '--force', '--env-file', lab.envFile], {
      env: { ...env(), RFC2136_TSIG: `hmac-sha256:${lab.tsig.name}:${wrongSecret}` },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /refused adding a TXT record at _acme-challenge\.\S+ \(zone example\.test\): it did not accept the TSIG signature made with key "mailops-lab" \(hmac-sha256\) — BADSIG/
    );
    expect(result.stderr).toContain('The secret in RFC2136_TSIG does not match the key configured on the DNS server');
    expect(result.stderr).not.toContain(wrongSecret);
    expect(installed(lab)).toEqual(before);
  });
});
