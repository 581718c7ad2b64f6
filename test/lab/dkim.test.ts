// DKIM rotation end to end against both chasquid builds (1.11: post-data hook with dkimsign; 1.15: built-in signing):
// the new selector is published at Knot, a message submitted afterwards is signed with it and verifies against Knot
// (mailauth, asked here by the test itself), an older message keeps verifying during the grace period, and the
// dkim-retire job removes the old key once the clock has moved past it. Failures roll back and name their step.
//
// Messages come from mailops's own probe (src/probe): its sender submits on the submission port and its capturing
// inbox keeps the message on the host after chasquid (or its hook) signed it.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dkimVerify } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { DnsResolver } from '../../src/dns/caching-resolver.ts';
import { createPublisher, RecordPublishing } from '../../src/dns/publisher.ts';
import { operationContext, type OperationContext } from '../../src/ops/context.ts';
import type { SignedMessageProbe } from '../../src/ops/dkim-probe.ts';
import { dkimRetireJob } from '../../src/ops/dkim-retire.ts';
import { dkimRotate, type DkimRotateInput } from '../../src/ops/dkim-rotate.ts';
import { sendProbe } from '../../src/probe/probe.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { runCli } from '../cli.ts';
import { startLab, type ChasquidBuild, type Lab } from './lab.ts';

const day = 86_400_000;

describe.each(['1.11', '1.15'] as ChasquidBuild[])('DKIM rotation with chasquid %s', (build) => {
  const domain = 'example.test';
  let lab: Lab;
  let runtime: Runtime;
  // The rotations below happen at chosen times, 40 and 39 days ago, so that their date selectors differ from today's.
  const firstAt = new Date(Date.now() - 40 * day);
  const secondAt = new Date(Date.now() - 39 * day);
  let firstSelector = '';
  let secondSelector = '';
  let oldMessage: Buffer;

  const at = (when: Date): OperationContext => ({ ...operationContext(runtime, 'test'), now: () => when });
  const publishing = () =>
    new RecordPublishing(
      createPublisher(runtime.config, runtime.logger, () => new Date(), {}),
      runtime.config,
      runtime.logger,
      10_000
    );
  const rotate = (when: Date, input: Partial<DkimRotateInput> = {}) => dkimRotate(at(when), { domain, publishing, ...input });
  const probeMessage = async () => (await sendProbe(operationContext(runtime, 'test'), domain)).raw;
  /** What mailauth says of each DKIM signature of a message, asking the lab's Knot for keys. */
  const signatures = async (message: Buffer) =>
    (
      await dkimVerify(message, { resolver: new DnsResolver({ server: { host: '127.0.0.1', port: lab.ports.dns } }).forMailauth })
    ).results.map((result) => ({ selector: result.selector, domain: result.signingDomain, result: result.status.result }));
  const knotRecord = async (selector: string) => lab.knotc('zone-read', domain, `${selector}._domainkey.${domain}.`, 'TXT').catch(() => '');
  const domainFiles = () =>
    readdirSync(path.join(lab.chasquidDir, 'domains', domain))
      .filter((name) => name.startsWith('dkim'))
      .sort();

  beforeAll(async () => {
    lab = await startLab({ chasquid: build, domains: [domain] });
    const { config, secrets } = loadConfig({ envFile: lab.envFile, cwd: lab.dir, env: {} });
    runtime = createRuntime({ config, secrets, logLevel: 'silent' });
  });

  afterAll(async () => {
    await runtime?.close();
    await lab?.stop();
  });

  it('dkim-show says the domain has no key yet', async () => {
    const result = await runCli(['dkim-show', domain, '--env-file', lab.envFile]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${domain} has no DKIM key`);
  });

  it('refuses what it cannot do before changing anything: an unknown key type; on 1.11 a hook that cannot sign, or Ed25519', async () => {
    const unknown = await runCli(['dkim-rotate', domain, '--algo', 'dsa', '--json', '--env-file', lab.envFile]);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.code).toBe('invalid-dkim-algorithm');
    const outside = await runCli(['dkim-rotate', 'example.org', '--json', '--env-file', lab.envFile]);
    expect(JSON.parse(outside.stdout).error.code).toBe('domain-not-managed');
    if (build === '1.11') {
      const hook = path.join(lab.chasquidDir, 'hooks/post-data');
      const original = readFileSync(hook, 'utf8');
      writeFileSync(hook, original.replaceAll('dkimsign', 'true'));
      try {
        const result = await runCli(['dkim-rotate', domain, '--yes', '--json', '--env-file', lab.envFile]);
        expect(result.code).toBe(1);
        const body = JSON.parse(result.stdout);
        expect(body.error.code).toBe('dkim-hook-missing');
        expect(body.error.message).toContain("does not call dkimsign: add the DKIM section of chasquid's example hook");
      } finally {
        writeFileSync(hook, original);
      }
      const ed25519 = await runCli(['dkim-rotate', domain, '--yes', '--algo', 'ed25519', '--json', '--env-file', lab.envFile]);
      expect(ed25519.code).toBe(2);
      expect(JSON.parse(ed25519.stdout).error.code).toBe('dkim-algorithm-unsupported');
    }
    expect(domainFiles()).toEqual([]);
    expect(await knotRecord(new Date().toISOString().slice(0, 10).replaceAll('-', ''))).toBe('');
  });

  it('sets up the first key: published at Knot, activated, and a fresh message verifies with it', async () => {
    const result = await rotate(firstAt);
    firstSelector = result.selector;
    expect(firstSelector).toBe(firstAt.toISOString().slice(0, 10).replaceAll('-', ''));
    expect(result).toMatchObject({ domain, published: true, active: true, verified: true, algorithm: 'rsa2048', retiring: [] });
    expect(result.layout).toBe(build === '1.11' ? 'hook' : 'builtin');
    // Knot holds the record, split into strings of at most 255 bytes.
    const zone = await knotRecord(firstSelector);
    expect(zone.replace(/" "/g, '')).toContain(result.record);
    expect(zone).toMatch(/" "/);
    if (build === '1.11') {
      expect(readFileSync(path.join(lab.chasquidDir, 'domains', domain, 'dkim_selector'), 'utf8')).toBe(`${firstSelector}\n`);
      expect(readFileSync(path.join(lab.chasquidDir, 'certs', domain, 'dkim_privkey.pem'), 'utf8')).toContain('BEGIN RSA PRIVATE KEY');
    } else {
      expect(domainFiles()).toEqual([`dkim:${firstSelector}.pem`]);
      expect(readFileSync(path.join(lab.chasquidDir, 'domains', domain, `dkim:${firstSelector}.pem`), 'utf8')).toContain(
        'BEGIN PRIVATE KEY'
      );
    }
    oldMessage = await probeMessage();
    expect(await signatures(oldMessage)).toEqual([{ selector: firstSelector, domain, result: 'pass' }]);
  });

  it('rotates: the new selector signs and verifies, the old message still verifies, the old key is scheduled for retirement', async () => {
    const result = await rotate(secondAt);
    secondSelector = result.selector;
    expect(secondSelector).not.toBe(firstSelector);
    expect(result.retiring).toEqual([{ selector: firstSelector, after: new Date(secondAt.getTime() + 7 * day).toISOString() }]);
    expect(result.verification).toContain(`s=${secondSelector} pass`);
    expect((await knotRecord(secondSelector)).replace(/" "/g, '')).toContain(result.record);

    const fresh = await signatures(await probeMessage());
    // 1.15 signs with every key present (the old one too, during the grace period); the 1.11 hook with the selected one.
    const expected =
      build === '1.11'
        ? [{ selector: secondSelector, domain, result: 'pass' }]
        : [
            { selector: firstSelector, domain, result: 'pass' },
            { selector: secondSelector, domain, result: 'pass' },
          ];
    expect(fresh.sort((a, b) => String(a.selector).localeCompare(String(b.selector)))).toEqual(expected);
    expect(await signatures(oldMessage)).toEqual([{ selector: firstSelector, domain, result: 'pass' }]);

    const shown = JSON.parse((await runCli(['dkim-show', domain, '--json', '--env-file', lab.envFile])).stdout);
    expect(shown.selectors).toEqual([
      { selector: secondSelector, record: result.record, published: true, active: true },
      {
        selector: firstSelector,
        record: expect.stringMatching(/^v=DKIM1; k=rsa; p=/),
        published: true,
        active: build === '1.15',
        retireAfter: result.retiring[0]?.after,
      },
    ]);
  });

  it('keeps the old key during the grace period, and dkim-retire removes it once the clock has moved past it', async () => {
    const early = await dkimRetireJob(at(new Date(secondAt.getTime() + 6 * day)), { publishing });
    expect(early).toMatchObject({ job: 'dkim-retire', ok: true, alerts: [], retired: [] });
    expect(early.waiting).toEqual([{ domain, selector: firstSelector, after: new Date(secondAt.getTime() + 7 * day).toISOString() }]);
    expect(await knotRecord(firstSelector)).not.toBe('');
    expect(await signatures(oldMessage)).toEqual([{ selector: firstSelector, domain, result: 'pass' }]);

    const pid = lab.chasquidPid();
    const late = await dkimRetireJob(at(new Date(secondAt.getTime() + 7 * day + 3_600_000)), { publishing });
    expect(late).toMatchObject({ job: 'dkim-retire', ok: true, retired: [{ domain, selector: firstSelector }], failed: [], waiting: [] });
    expect(late.alerts).toEqual([{ kind: 'dkim-retired', message: expect.stringContaining(`s=${firstSelector} of ${domain}`) }]);
    expect(await knotRecord(firstSelector)).toBe('');
    expect((await signatures(oldMessage))[0]?.result).not.toBe('pass');
    if (build === '1.15') {
      expect(domainFiles()).toEqual([`dkim:${secondSelector}.pem`]);
      expect(lab.chasquidPid()).not.toBe(pid);
    }
    expect(await signatures(await probeMessage())).toEqual([{ selector: secondSelector, domain, result: 'pass' }]);

    const again = JSON.parse((await runCli(['run-job', 'dkim-retire', '--json', '--env-file', lab.envFile])).stdout);
    expect(again).toMatchObject({ job: 'dkim-retire', ok: true, alerts: [], retired: [], failed: [], waiting: [] });
  });

  it('rolls back and names the step when the freshly signed message does not verify', async () => {
    const before = domainFiles();
    const selectorBefore = build === '1.11' ? readFileSync(path.join(lab.chasquidDir, 'domains', domain, 'dkim_selector'), 'utf8') : '';
    const unsigned: SignedMessageProbe = async () => Buffer.from(`From: <x@${domain}>\r\nSubject: unsigned\r\n\r\nno signature\r\n`);
    const error = await rotate(new Date(secondAt.getTime() + day), { probe: unsigned }).then(
      () => undefined,
      (caught: unknown) => caught
    );
    expect(error).toMatchObject({ code: 'dkim-signature-unverified' });
    const message = (error as Error).message;
    expect(message).toContain(`dkim-rotate ${domain} stopped at step "verify a freshly signed message"`);
    expect(message).toContain('Put back:');
    expect(message).toContain('the new DNS record was removed');
    const attempted = /s=([0-9a-z]+)/.exec(message)?.[1] as string;
    expect(await knotRecord(attempted)).toBe('');
    expect(domainFiles()).toEqual(before);
    if (build === '1.11') expect(readFileSync(path.join(lab.chasquidDir, 'domains', domain, 'dkim_selector'), 'utf8')).toBe(selectorBefore);
    expect(await signatures(await probeMessage())).toEqual([{ selector: secondSelector, domain, result: 'pass' }]);
  });

  it('stops before changing anything when Knot refuses the TSIG key, and says so', async () => {
    const before = domainFiles();
    const wrongSecret = Buffer.alloc(32, 5).toString('base64');
    const result = await runCli(['dkim-rotate', domain, '--yes', '--json', '--env-file', lab.envFile], {
      env: { RFC2136_TSIG: `hmac-sha256:${lab.tsig.name}:${wrongSecret}` },
    });
    expect(result.code).toBe(1);
    const body = JSON.parse(result.stdout);
    expect(body.error.code).toBe('dns-update-tsig-refused');
    expect(body.error.message).toContain(`dkim-rotate ${domain} stopped at step "publish the new key in DNS"`);
    expect(body.error.message).toContain('BADSIG');
    expect(body.error.message).toContain('Nothing had been changed.');
    expect(body.error.hint).toContain('RFC2136_TSIG');
    expect(result.stderr).not.toContain(wrongSecret);
    expect(domainFiles()).toEqual(before);
  });

  it("rotates from the command line too, with today's selector, verified through mailops's probe", async () => {
    const algorithm = build === '1.15' ? 'ed25519' : 'rsa3072';
    const result = await runCli(['dkim-rotate', domain, '--yes', '--algo', algorithm, '--json', '--env-file', lab.envFile]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ domain, published: true, active: true, algorithm, verified: true });
    expect(body.verification).toContain(`s=${body.selector} pass`);
    expect(body.selector).toBe(new Date().toISOString().slice(0, 10).replaceAll('-', ''));
    expect(body.record).toMatch(algorithm === 'ed25519' ? /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/ : /^v=DKIM1; k=rsa; p=/);
    expect(body.retiring).toEqual([{ selector: secondSelector, after: expect.any(String) }]);
    const signed = await signatures(await probeMessage());
    expect(signed).toContainEqual({ selector: body.selector, domain, result: 'pass' });
    expect(existsSync(path.join(lab.chasquidDir, '.mailops-backup'))).toBe(true);
  });
});
