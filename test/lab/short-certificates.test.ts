// Short certificates: pebble 2.6 issues 6-day certificates (its certificateValidityPeriod), and cert-watch keeps the
// host served with a valid one across three renewals. pebble issues from the real time; the runtime's clock is moved
// to just before, then just after, the time chosen in each certificate's ARI window. Alerts are `renewed` only: no
// failure, nothing paged.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ariCertificateId } from '../../src/acme/renewal.ts';
import { loadConfig } from '../../src/config.ts';
import { certRenew } from '../../src/ops/cert-renew.ts';
import { operationContext } from '../../src/ops/context.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { unattendedPublishing } from '../../src/schedule/publishing.ts';
import { runJob } from '../../src/schedule/runner.ts';
import { loadRenewalInfo } from '../../src/store/renewal-info.ts';
import { startLab, type Lab } from './lab.ts';
import { servedEverywhere } from './served-chain.ts';

const day = 24 * 60 * 60 * 1000;
let lab: Lab;
let runtime: Runtime;
/** The runtime's clock when set; the real time otherwise (pebble keeps the real one). */
let fixed: Date | undefined;
const clock = () => fixed ?? new Date();

const installedLeaf = () => new X509Certificate(readFileSync(path.join(lab.chasquidDir, 'certs', lab.hostname, 'fullchain.pem'), 'utf8'));

const runCertWatch = async () => {
  const result = await runJob(runtime, 'cert-watch', { trigger: 'manual', actor: 'test' });
  if (result.status !== 'done') throw new Error(`cert-watch did not run: held by ${result.holder}`);
  return result.outcome;
};

beforeAll(async () => {
  lab = await startLab({ acme: true, pebble: '2.6', certificateValiditySeconds: 6 * 24 * 60 * 60, domains: ['example.test'] });
  const { config, secrets } = loadConfig({ envFile: lab.envFile, cwd: lab.dir, env: { CERT_EXTRA_NAMES: '' } });
  runtime = createRuntime({ config, secrets, logLevel: 'silent', now: clock });
  // The lab starts with a self-signed certificate the CA does not know: the first 6-day one from pebble.
  const first = await certRenew(operationContext(runtime, 'test'), { force: true, publishing: () => unattendedPublishing(runtime, []) });
  expect(first.renewed).toBe(true);
}, 120_000);

afterAll(async () => {
  await runtime?.close();
  await lab?.stop();
});

describe('6-day certificates', () => {
  it('cert-watch keeps the host served with a valid certificate across three renewals, alerting only that it renewed', async () => {
    const leaf = installedLeaf();
    expect(new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime()).toBeLessThanOrEqual(6 * day + 1000);
    const fingerprints = [leaf.fingerprint256];
    for (let renewal = 1; renewal <= 3; renewal += 1) {
      const installed = installedLeaf();
      // A first run (at the real time) asks the CA and keeps the time chosen in the certificate's window.
      fixed = undefined;
      const asked = await runCertWatch();
      expect(asked.details.renewed, `renewal ${renewal}: first look`).toBe(false);
      const stored = loadRenewalInfo(runtime.database(), ariCertificateId(installed.toString()) as string);
      expect(stored, `renewal ${renewal}: window kept`).toBeDefined();
      expect(stored!.renewAt.getTime()).toBeLessThan(new Date(installed.validTo).getTime());

      // An hour before that time: nothing happens.
      fixed = new Date(stored!.renewAt.getTime() - 60 * 60 * 1000);
      const before = await runCertWatch();
      expect(before.details.renewed, `renewal ${renewal}: before the chosen time`).toBe(false);
      expect(before.alerts).toEqual([]);
      expect(installedLeaf().fingerprint256).toBe(installed.fingerprint256);

      // A minute after it: renewed, served on every port, and the new certificate is valid at that time.
      fixed = new Date(stored!.renewAt.getTime() + 60 * 1000);
      const after = await runCertWatch();
      expect(after.details.renewed, `renewal ${renewal}: after the chosen time`).toBe(true);
      expect(after.ok).toBe(true);
      expect(after.alerts.map((alert) => alert.kind)).toEqual(['renewed']);
      expect(after.alerts[0]?.severity).toBe('resolved');
      const renewed = installedLeaf();
      expect(fingerprints).not.toContain(renewed.fingerprint256);
      fingerprints.push(renewed.fingerprint256);
      expect(new Date(renewed.validFrom) <= clock() && clock() < new Date(renewed.validTo)).toBe(true);
      for (const chain of await servedEverywhere(lab)) expect(chain[0]?.fingerprint256).toBe(renewed.fingerprint256);
    }
    expect(fingerprints).toHaveLength(4);
  }, 120_000);
});
