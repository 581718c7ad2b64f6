// ACME Renewal Information (ARI, RFC 9773) against a CA that serves it: Debian 13's pebble 2.6. cert-watch asks the
// CA's renewalInfo for the installed certificate and leaves it alone while the window lies in the future; the order
// of a renewal says which certificate it `replaces`, and the CA links them; when the CA revokes the installed
// certificate its window moves to "now", and the next cert-watch run that asks (not before the CA's Retry-After)
// renews and says why. The runtime's clock can be moved ahead; pebble keeps the real time.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountKeyFile } from '../../src/acme/account.ts';
import { issueCertificate } from '../../src/acme/client.ts';
import { ariCertificateId } from '../../src/acme/renewal.ts';
import { certificatesEmbed } from '../../src/bot/certificate-embeds.ts';
import { renderCertificates } from '../../src/cli/text/certificates.ts';
import { loadConfig } from '../../src/config.ts';
import { acmeSettings, certRenew } from '../../src/ops/cert-renew.ts';
import { certStatus } from '../../src/ops/cert-status.ts';
import { operationContext, type OperationContext } from '../../src/ops/context.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { unattendedPublishing } from '../../src/schedule/publishing.ts';
import { runJob } from '../../src/schedule/runner.ts';
import { certificateDaysLeft } from '../../src/store/latest-results.ts';
import { loadRenewalInfo, saveIssuedCertificate } from '../../src/store/renewal-info.ts';
import { startLab, type Lab } from './lab.ts';

let lab: Lab;
let runtime: Runtime;
let context: OperationContext;
/** How far the runtime's clock is ahead of the real one. */
let aheadMs = 0;
const hour = 60 * 60 * 1000;

const installedPem = () => readFileSync(path.join(lab.chasquidDir, 'certs', lab.hostname, 'fullchain.pem'), 'utf8');
const installedLeaf = () => new X509Certificate(installedPem());

/** One GET to pebble, as it answers: status, headers and JSON body. */
function pebbleGet(url: string): Promise<{ status: number; retryAfter: string | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: readFileSync(lab.acmeCaFile) }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers['retry-after'],
            body: text.trim().startsWith('{') ? (JSON.parse(text) as unknown) : text,
          })
        );
      })
      .on('error', reject);
  });
}

const directoryUrl = () => `https://127.0.0.1:${lab.ports.acme}/dir`;

async function renewalInfoOf(pem: string) {
  const directory = (await pebbleGet(directoryUrl())).body as { renewalInfo: string };
  return pebbleGet(`${directory.renewalInfo}/${ariCertificateId(pem)}`);
}

const runCertWatch = async () => {
  const result = await runJob(runtime, 'cert-watch', { trigger: 'manual', actor: 'test' });
  if (result.status !== 'done') throw new Error(`cert-watch did not run: held by ${result.holder}`);
  return result.outcome;
};

beforeAll(async () => {
  lab = await startLab({ acme: true, pebble: '2.6', domains: ['example.test'] });
  const { config, secrets } = loadConfig({ envFile: lab.envFile, cwd: lab.dir, env: { CERT_EXTRA_NAMES: '' } });
  runtime = createRuntime({ config, secrets, logLevel: 'silent', now: () => new Date(Date.now() + aheadMs) });
  context = operationContext(runtime, 'test');
  // The lab starts with a self-signed certificate the CA does not know: the first one from pebble.
  const first = await certRenew(context, { force: true, publishing: () => unattendedPublishing(runtime, []) });
  expect(first.renewed).toBe(true);
}, 120_000);

afterAll(async () => {
  await runtime?.close();
  await lab?.stop();
});

describe('ARI against pebble 2.6', () => {
  it("pebble 2.6 serves renewalInfo: a window in the future leaves the certificate alone, and it is kept until the CA's Retry-After", async () => {
    const directory = (await pebbleGet(directoryUrl())).body as Record<string, unknown>;
    expect(typeof directory.renewalInfo).toBe('string');
    const before = installedLeaf().fingerprint256;
    const outcome = await runCertWatch();
    expect(outcome.details.renewed).toBe(false);
    expect(outcome.alerts).toEqual([]);
    expect(installedLeaf().fingerprint256).toBe(before);

    const status = await certStatus(context);
    const own = status.certificates.find((certificate) => certificate.name === lab.hostname);
    expect(own?.renewDue).toBe(false);
    expect(own?.renewReason).toMatch(/^the CA's renewal window \(ARI\) suggests renewing from /);

    // The time chosen lies inside the CA's window, and the next question waits for the CA's Retry-After.
    const answer = await renewalInfoOf(installedPem());
    const window = (answer.body as { suggestedWindow: { start: string; end: string } }).suggestedWindow;
    // cert-status shows the window (JSON, text, Discord), and /metrics its start (cert-watch saved it).
    const shown = { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() };
    expect(own?.renewalWindow).toEqual(shown);
    expect(own).not.toHaveProperty('profile');
    expect(renderCertificates(status)).toContain(`CA's renewal window ${shown.start.slice(0, 16)}Z–${shown.end.slice(0, 16)}Z`);
    expect(JSON.stringify(certificatesEmbed(status))).toContain("CA's renewal window: ");
    expect(certificateDaysLeft(runtime.database(), runtime.now())).toContainEqual(
      expect.objectContaining({ name: lab.hostname, renewalWindowStart: shown.start })
    );
    const stored = loadRenewalInfo(runtime.database(), ariCertificateId(installedPem()) as string);
    expect(stored?.start.toISOString()).toBe(new Date(window.start).toISOString());
    expect(stored?.end.toISOString()).toBe(new Date(window.end).toISOString());
    expect(stored!.renewAt >= stored!.start && stored!.renewAt <= stored!.end).toBe(true);
    expect(stored!.renewAt.getTime()).toBeGreaterThan(Date.now());
    const waitMs = stored!.nextPollAt.getTime() - stored!.fetchedAt.getTime();
    if (answer.retryAfter !== undefined) expect(waitMs).toBe(Math.min(24 * hour, Math.max(60_000, Number(answer.retryAfter) * 1000)));
    else expect(waitMs).toBe(6 * hour);
  });

  it('a renewal sends `replaces` with the identifier of the certificate it replaces, and the CA links them', async () => {
    const previous = installedPem();
    const previousId = ariCertificateId(previous) as string;
    const result = await certRenew(context, { force: true, publishing: () => unattendedPublishing(runtime, []) });
    expect(result).toMatchObject({ renewed: true, replaced: previousId });
    expect(installedPem()).not.toBe(previous);
    // cert-status shows the profile mailops ordered a certificate with (pebble 2.6 offers none: recorded here as a CA
    // that offers them would have answered).
    saveIssuedCertificate(runtime.database(), {
      certificateId: ariCertificateId(installedPem()) as string,
      profile: 'tlsserver',
      issuedAt: new Date(),
    });
    const status = await certStatus(context);
    expect(status.certificates.find((certificate) => certificate.name === lab.hostname)?.profile).toBe('tlsserver');
    expect(renderCertificates(status)).toContain('profile tlsserver;');
    // The CA recorded the link: a second order that says it replaces the same certificate is refused (pebble: "already
    // has a replacement ordered"), and issueCertificate orders again without it rather than fail the renewal.
    const again = await issueCertificate(
      acmeSettings(runtime.config),
      [lab.hostname],
      unattendedPublishing(runtime, []),
      runtime.logger,
      undefined,
      { replaces: previousId }
    );
    expect(again.replaced).toBeUndefined();
    expect(new X509Certificate(again.fullchain).subjectAltName).toContain(lab.hostname);
  });

  it("after the CA revokes the installed certificate, the next cert-watch run that asks (after the CA's Retry-After) renews and says why", async () => {
    const revokedPem = installedPem();
    const revokedId = ariCertificateId(revokedPem) as string;
    // cert-watch asks once while the certificate is still good: its window and Retry-After are kept.
    expect((await runCertWatch()).details.renewed).toBe(false);
    const kept = loadRenewalInfo(runtime.database(), revokedId);
    expect(kept).toBeDefined();

    // The CA revokes it (RFC 8555 revocation by the account that ordered it, mailops's own).
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: readFileSync(lab.acmeCaFile) });
    const account = new acme.Client({ directoryUrl: directoryUrl(), accountKey: readFileSync(accountKeyFile(runtime.config.STATE_DB)) });
    await account.createAccount({ onlyReturnExisting: true });
    await account.revokeCertificate(revokedPem);
    const moved = (await renewalInfoOf(revokedPem)).body as { suggestedWindow: { start: string; end: string } };
    expect(new Date(moved.suggestedWindow.start).getTime()).toBeLessThanOrEqual(Date.now());

    // Before the Retry-After has passed, the CA is not asked again: the window kept says "not yet".
    const early = await runCertWatch();
    expect(early.details.renewed).toBe(false);
    expect(installedPem()).toBe(revokedPem);

    // Once it has passed, the run asks, sees the window at "now", renews and says why.
    aheadMs = kept!.nextPollAt.getTime() - Date.now() + 60_000;
    const outcome = await runCertWatch();
    expect(outcome.details.renewed).toBe(true);
    expect(installedPem()).not.toBe(revokedPem);
    expect(outcome.alerts).toHaveLength(1);
    expect(outcome.alerts[0]).toMatchObject({ kind: 'renewed', severity: 'resolved' });
    expect(outcome.alerts[0]?.message).toContain('the CA asked for early renewal');
    expect(outcome.alerts[0]?.message).toContain(revokedId);
  });
});
