// Deliveries that a remote server refuses, on both chasquid builds: chasquid delivers remote mail to a loopback SMTP
// server (the lab's `outgoingSmtp`) that answers like Gmail refusing an unauthenticated sender (550 5.7.26, a
// multi-line reply) or like a provider slowing a sender down (451 4.7.28). What mailops sees is what chasquid wrote
// to its mail log; the test reads that log and checks how mailops classifies the lines and what it advises.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { likelyFix } from '../../src/reports/delivery-advice.ts';
import { parseMailLogChunk, type MailLogEvent } from '../../src/reports/mail-log.ts';
import { runCli } from '../cli.ts';
import { startRemoteSmtp, type RemoteSmtpServer } from '../remote-smtp.ts';
import { canAuthenticate, submitAs, waitForAuthentication } from '../smtp.ts';
import { waitFor } from '../wait.ts';
import { freePorts, startLab, type Lab } from './lab.ts';

const refusedRecipient = 'someone@remote.test';
const acceptedRecipient = 'friend@remote.test';
const slowedRecipient = 'later@remote.test';
const gmailRefusal = [
  '550-5.7.26 This mail has been blocked because the sender is unauthenticated.',
  '550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.',
  '550-5.7.26',
  '550-5.7.26  Authentication results:',
  '550-5.7.26  DKIM = did not pass',
  '550-5.7.26  SPF [example.test] with ip: [192.0.2.1] = did not pass',
  '550 5.7.26 For instructions on setting up authentication, go to https://support.google.com/mail/answer/81126#authentication',
];
const rateLimit = ['451 4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.'];
const remoteZone = [
  '@ SOA ns1.remote.test. hostmaster.remote.test. 1 3600 600 86400 60',
  '@ NS ns1.remote.test.',
  'ns1 A 127.0.0.1',
  '@ MX 10 mx.remote.test.',
  'mx A 127.0.0.1',
].join('\n');
const sender = 'alice@example.test';
const password = 'lab-password-4711';

describe.each(['1.11', '1.15'] as const)('deliveries refused by a remote server, chasquid %s', (build) => {
  let lab: Lab;
  let remote: RemoteSmtpServer;
  const mailLog = () => {
    const file = path.join(lab.dir, 'var/log/mail.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  };
  const events = (): MailLogEvent[] => parseMailLogChunk(mailLog()).events;

  beforeAll(async () => {
    const [port] = (await freePorts(1)) as [number];
    remote = await startRemoteSmtp(port, { [refusedRecipient]: gmailRefusal, [slowedRecipient]: rateLimit });
    lab = await startLab({ chasquid: build, outgoingSmtp: { port }, zones: { 'remote.test': remoteZone } });
    // Through mailops, the password on standard input: never on a command line, where the process list shows it.
    const added = await runCli(['user-add', sender, '--password-stdin'], { cwd: lab.dir, env: lab.env, stdin: `${password}\n` });
    expect(added.code, added.stderr).toBe(0);
    await waitForAuthentication(lab, sender, password, true);
  });

  afterAll(async () => {
    await lab?.stop();
    await remote?.close();
  });

  it('logs a permanent failure with the remote reply, and advises DKIM and SPF alignment', async () => {
    await submitAs(lab, { user: sender, password }, [refusedRecipient, slowedRecipient], 'refused by the remote server');
    const failure = await waitFor(
      'chasquid to log the permanent failure of the delivery to remote.test',
      () => events().find((event) => event.kind === 'failed' && event.to === refusedRecipient),
      {
        timeoutMs: 20_000,
        intervalMs: 100,
        diagnostics: () => `mail.log:\n${mailLog()}\nremote server saw:\n${remote.commands.join('\n')}\nchasquid:\n${lab.chasquidLog()}`,
      }
    );
    expect(remote.commands).toContain(`RCPT TO:<${refusedRecipient}>`);
    expect(failure).toMatchObject({ kind: 'failed', permanent: true, from: sender });
    if (failure.kind !== 'failed') throw new Error('unreachable');
    expect(failure.reply).toContain('5.7.26');
    expect(failure.reply).toContain('sender is unauthenticated');
    const advice = likelyFix(failure.reply);
    expect(advice.code).toBe('5.7.26');
    expect(advice.fix).toMatch(/DKIM/);
    expect(advice.fix).toMatch(/SPF/);
    expect(advice.fix).toContain('mailops check');
  });

  it('the reports job alerts the refusal once, with the reply and the fix, and the message still queued as stuck', async () => {
    // A message counts as stuck a second after mailops first saw it queued; the one to later@remote.test is retried,
    // so it stays in the queue.
    const env = { ...lab.env, QUEUE_STUCK_HOURS: '0.0003' };
    type JobJson = { ok: boolean; alerts: Array<{ kind: string; message: string; page: boolean }> };
    const first = await runCli(['run-job', 'reports', '--json'], { cwd: lab.dir, env });
    const result = JSON.parse(first.stdout) as JobJson;
    const refused = result.alerts.filter((alert) => alert.kind === 'delivery-failed');
    expect(refused, first.stdout + first.stderr).toHaveLength(1);
    expect(refused[0]?.message).toContain('5.7.26 This mail has been blocked because the sender is unauthenticated');
    expect(refused[0]?.message).toContain('mailops check');
    expect(refused[0]?.page).toBe(true);
    expect(result.ok).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const second = JSON.parse((await runCli(['run-job', 'reports', '--json'], { cwd: lab.dir, env })).stdout) as JobJson;
    expect(second.alerts.map((alert) => alert.kind)).toEqual(['queue-stuck']);
    expect(second.alerts[0]?.message).toContain(slowedRecipient);
    // Nothing new: no alert again.
    const third = JSON.parse((await runCli(['run-job', 'reports', '--json'], { cwd: lab.dir, env })).stdout) as JobJson;
    expect(third.alerts).toEqual([]);
  });

  it('logs a delivery the remote server accepts as sent, and the message as all done', async () => {
    await submitAs(lab, { user: sender, password }, [acceptedRecipient], 'accepted by the remote server');
    const sent = await waitFor(
      'chasquid to log the delivery to friend@remote.test as sent',
      () =>
        events().find((event): event is Extract<MailLogEvent, { kind: 'sent' }> => event.kind === 'sent' && event.to === acceptedRecipient),
      { timeoutMs: 20_000, intervalMs: 100, diagnostics: () => `mail.log:\n${mailLog()}` }
    );
    expect(sent).toMatchObject({ kind: 'sent', from: sender });
    expect(remote.commands).toContain(`RCPT TO:<${acceptedRecipient}>`);
    await waitFor(
      'chasquid to log the message to friend@remote.test as all done',
      () => events().find((event) => event.kind === 'done' && event.id === sent.id),
      { timeoutMs: 20_000, intervalMs: 100, diagnostics: () => `mail.log:\n${mailLog()}` }
    );
    const queued = events().find((event) => event.kind === 'queued' && event.id === sent.id);
    expect(queued).toMatchObject({ kind: 'queued', from: sender, to: [acceptedRecipient] });
    // The reports job: a delivery to remote.test that went through ends the refusal alert.
    const run = await runCli(['run-job', 'reports', '--json'], { cwd: lab.dir, env: { ...lab.env, QUEUE_STUCK_HOURS: '0.0003' } });
    const alerts = (JSON.parse(run.stdout) as { alerts: Array<{ kind: string; message: string }> }).alerts;
    expect(alerts.filter((alert) => alert.kind === 'recovery').map((alert) => alert.message)).toEqual([
      `${sender} → ${acceptedRecipient} was accepted.`,
    ]);
  });

  it('logs a failed login with the address tried', async () => {
    expect(await canAuthenticate(lab, sender, 'not-the-password')).toBe(false);
    const failedLogin = await waitFor('chasquid to log the failed login', () => events().find((event) => event.kind === 'auth-failed'), {
      timeoutMs: 10_000,
      intervalMs: 100,
      diagnostics: () => `mail.log:\n${mailLog()}`,
    });
    expect(failedLogin).toMatchObject({ kind: 'auth-failed', user: sender });
    expect(failedLogin.kind === 'auth-failed' && failedLogin.ip).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
