// A certificate pair that does not match, and a chasquid.conf that does not parse, against a real chasquid (both
// builds): status, cert-status, the tls check and cert-renew see a key that does not belong to its certificate (and
// a plain cert-renew repairs it); no restart happens into a state chasquid cannot start with, and the error names the
// file; a cert-renew whose rollback fails because chasquid.conf broke meanwhile names chasquid.conf as the cause.

import { generateKeyPairSync, X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartDaemon } from '../../src/chasquid/daemon.ts';
import { loadConfig, parseConfig } from '../../src/config.ts';
import { mailHostFromConfig, type MailHost } from '../../src/host/mail-host.ts';
import { createLogger, Redactor } from '../../src/log.ts';
import { certRenew } from '../../src/ops/cert-renew.ts';
import { check } from '../../src/ops/check.ts';
import { operationContext } from '../../src/ops/context.ts';
import { createRuntime } from '../../src/runtime.ts';
import { runCli } from '../cli.ts';
import { startLab, type ChasquidBuild, type Lab } from './lab.ts';
import { servedEverywhere } from './served-chain.ts';

const logger = createLogger({ level: 'silent', redactor: new Redactor() });
const otherKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe.each(['1.11', '1.15'] as ChasquidBuild[])('certificate pairs and restarts with chasquid %s', (build) => {
  let lab: Lab;
  let host: MailHost;
  const certDir = () => path.join(lab.chasquidDir, 'certs', lab.hostname);
  const file = (name: string) => path.join(certDir(), name);
  const conf = () => path.join(lab.chasquidDir, 'chasquid.conf');
  let goodConf: string;

  beforeAll(async () => {
    lab = await startLab({ chasquid: build, acme: true, domains: ['example.test'] });
    host = mailHostFromConfig(parseConfig(lab.env), logger);
    goodConf = readFileSync(conf(), 'utf8');
  });

  afterAll(async () => {
    await host?.close();
    await lab?.stop();
  });

  it('status, cert-status and the tls check report a key that does not match its certificate; a plain cert-renew repairs it', async () => {
    const goodCertificate = readFileSync(file('fullchain.pem'), 'utf8');
    writeFileSync(file('privkey.pem'), otherKey());
    const mismatch = `certs/${lab.hostname}/privkey.pem does not belong to the certificate in certs/${lab.hostname}/fullchain.pem`;

    const status = await runCli(['status', '--json', '--env-file', lab.envFile]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).certificates).toEqual([expect.objectContaining({ name: lab.hostname, pairProblems: [mismatch] })]);
    expect((await runCli(['status', '--env-file', lab.envFile])).stdout).toContain(`BROKEN PAIR: ${mismatch}`);

    const certStatus = JSON.parse((await runCli(['cert-status', '--json', '--env-file', lab.envFile])).stdout);
    expect(certStatus.certificates[0]).toMatchObject({
      name: lab.hostname,
      renewDue: true,
      pairProblems: [mismatch],
      renewReason: `the installed pair does not match: ${mismatch}`,
    });

    // chasquid still serves the pair it loaded earlier; the check says that its next restart would fail.
    const report = await check(
      { host, config: parseConfig(lab.env), now: () => new Date() },
      { domain: 'example.test', extraCa: [goodCertificate] }
    );
    const tls = report.checks.filter((result) => result.id === 'tls');
    expect(tls).toHaveLength(3);
    for (const result of tls) {
      expect(result.status).toBe('fail');
      expect(result.summary).toContain(`the installed pair is broken: ${mismatch} — chasquid will not start with it on its next restart`);
      expect(result.fix).toBe(`Install a matching certificate and key in certs/${lab.hostname}/: mailops cert-renew`);
    }

    // Not forced: the mismatch makes renewal due.
    const renewed = await runCli(['cert-renew', '--json', '--env-file', lab.envFile]);
    expect(renewed.stderr).toBe('');
    expect(renewed.code).toBe(0);
    expect(JSON.parse(renewed.stdout)).toMatchObject({ renewed: true, reason: `the installed pair does not match: ${mismatch}` });
    const leaf = new X509Certificate(readFileSync(file('fullchain.pem'), 'utf8'));
    expect(leaf.checkPrivateKey(createPrivateKey(readFileSync(file('privkey.pem'), 'utf8')))).toBe(true);
    for (const chain of await servedEverywhere(lab)) expect(chain[0]?.fingerprint256).toBe(leaf.fingerprint256);
    expect(JSON.parse((await runCli(['status', '--json', '--env-file', lab.envFile])).stdout).certificates[0].pairProblems).toEqual([]);
  });

  it('refuses to restart chasquid into a mismatched pair, a missing key or a chasquid.conf that does not parse, naming the file', async () => {
    const command = parseConfig(lab.env).CHASQUID_RESTART;
    const pid = lab.chasquidPid();
    const goodKey = readFileSync(file('privkey.pem'), 'utf8');
    try {
      writeFileSync(file('privkey.pem'), otherKey());
      await expect(host.lock.run(() => restartDaemon(host, command, lab.chasquidDir))).rejects.toMatchObject({
        code: 'restart-refused',
        message: expect.stringContaining(
          `certs/${lab.hostname}/privkey.pem does not belong to the certificate in certs/${lab.hostname}/fullchain.pem`
        ),
      });
      writeFileSync(file('privkey.pem'), goodKey);
      writeFileSync(conf(), `${goodConf}\nthis is not a setting\n`);
      const line = goodConf.split('\n').length + 1;
      const refusal = await host.lock
        .run(() => restartDaemon(host, command, lab.chasquidDir))
        .then(
          () => undefined,
          (error: unknown) => error
        );
      expect(refusal).toMatchObject({ code: 'restart-refused' });
      expect((refusal as Error).message).toContain(
        `chasquid.conf: line ${line}: "this" is not a chasquid setting — chasquid does not start with a chasquid.conf it cannot parse`
      );
      expect(lab.chasquidPid()).toBe(pid);
      // What chasquid itself says of that file: it does not start (the lab's restart fails when it does not come back).
      await expect(host.lock.run(() => host.verbs.callOk('restart', [...command], { timeoutMs: 120_000 }))).rejects.toThrow(
        /did not come back/
      );
    } finally {
      writeFileSync(file('privkey.pem'), goodKey);
      writeFileSync(conf(), goodConf);
      await host.lock.run(() => restartDaemon(host, command, lab.chasquidDir));
    }
    expect(lab.chasquidPid()).not.toBe(pid);
  });

  if (build === '1.15') {
    it('refuses a restart while a domains/<d>/dkim:<selector>.pem is not a private key (built-in signing loads it at start-up)', async () => {
      const keyFile = path.join(lab.chasquidDir, 'domains/example.test/dkim:20260101.pem');
      writeFileSync(keyFile, 'not a key\n');
      try {
        await expect(host.lock.run(() => restartDaemon(host, parseConfig(lab.env).CHASQUID_RESTART, lab.chasquidDir))).rejects.toThrow(
          /domains\/example\.test\/dkim:20260101\.pem: it is not a private key \(.*\); chasquid does not start with it/
        );
        // What chasquid itself does with that file: it does not come back.
        await expect(
          host.lock.run(() => host.verbs.callOk('restart', [...parseConfig(lab.env).CHASQUID_RESTART], { timeoutMs: 120_000 }))
        ).rejects.toThrow(/did not come back/);
      } finally {
        rmSync(keyFile);
        await host.lock.run(() => restartDaemon(host, parseConfig(lab.env).CHASQUID_RESTART, lab.chasquidDir));
      }
    });
  }

  if (build === '1.11') {
    it("refuses a restart while a domain's dkim_selector has no dkim_privkey.pem (1.11 hook layout)", async () => {
      const selectorFile = path.join(lab.chasquidDir, 'domains/example.test/dkim_selector');
      writeFileSync(selectorFile, '20260101\n');
      try {
        await expect(host.lock.run(() => restartDaemon(host, parseConfig(lab.env).CHASQUID_RESTART, lab.chasquidDir))).rejects.toThrow(
          'certs/example.test/dkim_privkey.pem: it is missing, but domains/example.test/dkim_selector names the selector 20260101: every message of example.test would fail to be signed'
        );
      } finally {
        writeFileSync(selectorFile, '');
      }
    });
  }

  it('cert-renew --force with a chasquid.conf that does not parse asks the CA for nothing and names chasquid.conf', async () => {
    const before = readFileSync(file('fullchain.pem'), 'utf8');
    writeFileSync(conf(), `${goodConf}\nhostname: "second.example.test"\n`);
    try {
      const result = await runCli(['cert-renew', '--force', '--json', '--env-file', lab.envFile]);
      expect(result.code).toBe(1);
      const error = JSON.parse(result.stdout).error;
      expect(error.code).toBe('restart-refused');
      expect(error.message).toMatch(
        /^No certificate was requested: chasquid must restart to load it, and it would not come back with what is in .*: chasquid\.conf: line [0-9]+: hostname is set twice/
      );
      expect(error.message).toContain('Nothing was changed.');
    } finally {
      writeFileSync(conf(), goodConf);
    }
    expect(readFileSync(file('fullchain.pem'), 'utf8')).toBe(before);
  });

  it('when putting the previous certificate back fails because chasquid.conf broke meanwhile, the error names chasquid.conf', async () => {
    const { config, secrets } = loadConfig({ envFile: lab.envFile, cwd: lab.dir, env: {} });
    const runtime = createRuntime({ config, secrets, logLevel: 'silent' });
    const context = operationContext(runtime, 'test');
    const previous = readFileSync(file('fullchain.pem'), 'utf8');
    let error: unknown;
    try {
      // No restart happens at all: the check before it refuses chasquid.conf both times.
      error = await certRenew(context, {
        force: true,
        publishing: () => {
          throw new Error('the pair is given');
        },
        // The issued pair is the installed one under a new name: fit, and the test needs no CA.
        issue: async () => ({ fullchain: readFileSync(file('fullchain.pem'), 'utf8'), privkey: readFileSync(file('privkey.pem'), 'utf8') }),
        // After the checks and before the install, chasquid.conf breaks (another editor, a bad deploy).
        progress: (text) => {
          if (text.startsWith('Installing')) writeFileSync(conf(), `${goodConf}\ngarbage\n`);
        },
        serveTimeoutMs: 2000,
      }).then(
        () => undefined,
        (caught: unknown) => caught
      );
    } finally {
      await runtime.close();
      writeFileSync(conf(), goodConf);
      await host.lock.run(() => restartDaemon(host, parseConfig(lab.env).CHASQUID_RESTART, lab.chasquidDir));
    }
    expect(error).toMatchObject({ code: 'certificate-rollback-failed' });
    const message = (error as Error).message;
    expect(message).toMatch(
      /^The cause is chasquid\.conf, not the new certificate — chasquid cannot start with it: chasquid\.conf: line [0-9]+: "garbage" is not a chasquid setting/
    );
    expect(message).toContain('putting the previous certificate back failed too');
    expect((error as { hint: string }).hint).toContain('Fix chasquid.conf on the host');
    expect(readFileSync(file('fullchain.pem'), 'utf8')).toBe(previous);
  });
});
