// cert-watch inside the real bot, against pebble and Knot: a renewal that fails because the TSIG key was revoked in
// Knot pages the on-call role, is retried with growing pauses, escalates (pages again, louder) while the certificate
// has less than 7 days left, and says so when a retry finally works; a listener serving another certificate than the
// installed one is an alert, and its end a recovery. The runtime's clock is set 85 days ahead, so that the lab's
// 90-day certificate has 5 days left.

import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chownSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { jobRuns } from '../../src/store/job-runs.ts';
import { outboxLength } from '../../src/store/outbox.ts';
import { messageText } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import type { EmulatedMessage } from './payloads.ts';

const run = promisify(execFile);
const never = '0 0 1 1 *';
const day = 24 * 60 * 60 * 1000;
let h: Harness;
let scheduler: Scheduler;

beforeAll(async () => {
  h = await startHarness({
    lab: { dns: true, acme: true, domains: ['example.test'] },
    env: { CRON_HEALTH: never, CRON_CERT_WATCH: never, CRON_DNS_DRIFT: never, CRON_REPORTS: never, CRON_DIGEST: never },
    now: () => new Date(Date.now() + 85 * day),
    services: (runtime) => [
      (scheduler = new Scheduler(runtime, {
        delivery: { pollMs: 100 },
        jobs: { renewalRetryFirstMs: 1500, renewalRetryMaxMs: 3000 },
      })),
    ],
  });
}, 90_000);

afterAll(async () => {
  await h?.stop();
});

const alerts = (): EmulatedMessage[] => h.emulator.messagesIn(h.channels.alerts);
const mentions = (message: EmulatedMessage) => message.content.includes(`<@&${h.roles.oncall}>`);
const certWatchRuns = () => jobRuns(h.runtime.database(), 'cert-watch', 50);
const installedLeaf = () => new X509Certificate(readFileSync(path.join(h.lab.chasquidDir, 'certs', h.lab.hostname, 'fullchain.pem')));

/**
 * Waits until `count` alerts were posted and the outbox is empty. A job queues its messages in the transaction that
 * ends its run (schedule/runner.ts), and delivery marks a message delivered only after Discord took it: once the
 * outbox is empty, every alert of the runs that ended has been posted, so a count taken now is final.
 */
async function delivered(count: number): Promise<void> {
  await h.emulator.until(
    () => alerts().length >= count && outboxLength(h.runtime.database()) === 0,
    20_000,
    `${count} alert(s) and an empty outbox`
  );
}

describe('cert-watch', () => {
  it('a renewal refused by Knot (TSIG key revoked) pages the on-call role once', async () => {
    await h.lab.revokeTsigKeys(h.lab.tsig.name);
    await scheduler.run('cert-watch');
    await delivered(1);
    expect(alerts()).toHaveLength(1);
    const alert = alerts()[0] as EmulatedMessage;
    expect(mentions(alert)).toBe(true);
    expect(messageText(alert)).toContain(`${h.lab.hostname}: certificate renewal failed`);
    expect(messageText(alert)).toMatch(/BADKEY/);
    expect(messageText(alert)).toMatch(/expires in 5(\.\d)? days/);
    expect(certWatchRuns()[0]).toMatchObject({ trigger: 'manual', outcome: 'failed' });
  });

  it('retries by itself, escalating once (louder, paging again) since less than 7 days are left, then quietly', async () => {
    await h.emulator.until(
      () => certWatchRuns().filter((entry) => entry.trigger === 'retry' && entry.finishedAt !== undefined).length >= 2,
      20_000,
      'two retries'
    );
    await delivered(2);
    expect(alerts()).toHaveLength(2);
    const escalation = alerts()[1] as EmulatedMessage;
    expect(mentions(escalation)).toBe(true);
    expect(escalation.content).toContain('ESCALATION');
    expect(messageText(escalation)).toContain('still fails after 2 attempts, and less than 7 days are left');
    const retries = certWatchRuns().filter((entry) => entry.trigger === 'retry');
    expect(retries.every((entry) => entry.outcome === 'failed')).toBe(true);
    // The pauses grow: 1.5 s, then 3 s.
    const [second, first] = retries;
    expect(new Date(second?.startedAt ?? 0).getTime() - new Date(first?.startedAt ?? 0).getTime()).toBeGreaterThanOrEqual(2500);
    // The next failure changes nothing: no page.
    await h.emulator.until(
      () => certWatchRuns().filter((entry) => entry.trigger === 'retry' && entry.finishedAt !== undefined).length >= 3,
      20_000,
      'a third retry'
    );
    await delivered(2);
    expect(alerts()).toHaveLength(2);
  });

  it('a later retry that works says so, without a mention, and the new certificate is installed', async () => {
    await h.lab.restoreTsigKeys();
    await delivered(3);
    const renewed = alerts()[2] as EmulatedMessage;
    expect(mentions(renewed)).toBe(false);
    expect(messageText(renewed)).toMatch(/Renewed the certificate of mail\.example\.test after [0-9]+ failed attempts/);
    expect(installedLeaf().issuer).toMatch(/Pebble/i);
    expect(certWatchRuns()[0]).toMatchObject({ trigger: 'retry', outcome: 'ok' });
  });

  it('a listener serving another certificate than the installed one is an alert; a restart of chasquid ends it', async () => {
    const dir = path.join(h.lab.chasquidDir, 'certs', h.lab.hostname);
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '400',
      '-keyout',
      path.join(dir, 'privkey.pem'),
      '-out',
      path.join(dir, 'fullchain.pem'),
      '-subj',
      `/CN=${h.lab.hostname}`,
      '-addext',
      `subjectAltName=DNS:${h.lab.hostname}`,
    ]);
    chownSync(path.join(dir, 'privkey.pem'), 0, h.lab.daemon.gid);
    await scheduler.run('cert-watch');
    await delivered(4);
    const mismatch = alerts()[3] as EmulatedMessage;
    expect(mentions(mismatch)).toBe(true);
    expect(messageText(mismatch)).toContain('a listener serves another certificate than the one installed');
    await scheduler.run('cert-watch');
    await delivered(4);
    expect(alerts()).toHaveLength(4);

    await h.lab.stopChasquid();
    await h.lab.startChasquid();
    await scheduler.run('cert-watch');
    await delivered(5);
    const recovery = alerts()[4] as EmulatedMessage;
    expect(mentions(recovery)).toBe(false);
    expect(messageText(recovery)).toContain('serves the installed certificate again');
  });
});
