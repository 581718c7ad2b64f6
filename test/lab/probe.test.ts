// The probe against both chasquid builds: a message submitted as mailops's own sender, captured on the host after
// chasquid signed it (1.11: the post-data hook with dkimsign; 1.15: built-in signing), and verified with mailauth.

import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { authenticate } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { listAliases } from '../../src/ops/aliases.ts';
import { operationContext, type OperationContext } from '../../src/ops/context.ts';
import { listSenders } from '../../src/ops/senders.ts';
import { sendProbe } from '../../src/probe/probe.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { startLab, type Lab } from './lab.ts';

describe.each(['1.11', '1.15'] as const)('the probe on chasquid %s', (build) => {
  let lab: Lab;
  let runtime: Runtime;
  let context: OperationContext;
  const selector = `probe${build.replace('.', '')}`;
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKey = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

  beforeAll(async () => {
    lab = await startLab({ chasquid: build, dns: false });
    // DKIM for example.test in the layout of this build.
    const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    if (build === '1.11') {
      mkdirSync(path.join(lab.chasquidDir, 'certs/example.test'));
      writeFileSync(path.join(lab.chasquidDir, 'certs/example.test/dkim_privkey.pem'), privateKey);
      writeFileSync(path.join(lab.chasquidDir, 'domains/example.test/dkim_selector'), selector);
    } else {
      writeFileSync(path.join(lab.chasquidDir, `domains/example.test/dkim:${selector}.pem`), privateKey);
    }
    for (const file of build === '1.11' ? ['certs/example.test/dkim_privkey.pem'] : [`domains/example.test/dkim:${selector}.pem`]) {
      chownSync(path.join(lab.chasquidDir, file), 0, lab.daemon.gid);
      chmodSync(path.join(lab.chasquidDir, file), 0o640);
    }
    execFileSync(lab.env.CHASQUID_RESTART?.split(' ')[0] ?? '', lab.env.CHASQUID_RESTART?.split(' ').slice(1) ?? []);
    const { config, secrets } = loadConfig({ envFile: lab.envFile, cwd: lab.dir, env: {} });
    runtime = createRuntime({ config, secrets, logLevel: 'silent' });
    context = operationContext(runtime, 'test');
  });

  afterAll(async () => {
    await runtime?.close();
    await lab?.stop();
  });

  it('captures a message signed by chasquid that mailauth verifies (DKIM, SPF and DMARC pass)', async () => {
    const captured = await sendProbe(context, 'example.test');
    const text = captured.raw.toString('utf8');
    expect(text).toContain(`Subject: mailops probe ${captured.nonce}`);
    expect(text).toMatch(new RegExp(`DKIM-Signature:[^]*s=${selector}`));
    const records: Record<string, string[][]> = {
      [`${selector}._domainkey.example.test`]: [[`v=DKIM1; k=rsa; p=${publicKey}`]],
      'example.test': [['v=spf1 ip4:127.0.0.1 -all']],
      '_dmarc.example.test': [['v=DMARC1; p=reject']],
    };
    const result = await authenticate(captured.raw, {
      ip: '127.0.0.1',
      helo: captured.helo,
      sender: captured.sender,
      mta: 'verifier.test',
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && records[name]) return records[name];
        throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
      },
    });
    expect(
      result.dkim.results.map((entry: { status: { result: string }; selector?: string }) => [entry.status.result, entry.selector])
    ).toContainEqual(['pass', selector]);
    expect(result.spf ? result.spf.status.result : 'no SPF result').toBe('pass');
    expect(result.dmarc ? result.dmarc.status.result : 'no DMARC result').toBe('pass');
  });

  it('shows its sender and inbox as mailops-owned, and reuses them without restarting chasquid', async () => {
    expect(await listSenders(context)).toEqual({ users: ['mailops-probe@example.test'], mailopsOwned: ['mailops-probe@example.test'] });
    const aliases = await listAliases(context);
    expect(aliases.aliases).toEqual([expect.objectContaining({ address: 'mailops-probe-inbox@example.test', mailopsOwned: true })]);
    const pid = lab.chasquidPid();
    const second = await sendProbe(context, 'example.test');
    expect(second.raw.toString('utf8')).toContain(second.nonce);
    expect(lab.chasquidPid()).toBe(pid);
  });

  it('recreates its sender when someone removed it', async () => {
    execFileSync('sh', ['-c', ': > "$1"', 'sh', path.join(lab.chasquidDir, 'domains/example.test/users')]);
    const captured = await sendProbe(context, 'example.test');
    expect(captured.raw.toString('utf8')).toContain(captured.nonce);
  });
});
