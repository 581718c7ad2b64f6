// A remote server that forges chasquid's mail log: its multi-line refusal carries lines that look like chasquid's own
// (`<timestamp> <id> from=… to=… sent`). chasquid writes a reply's later lines into its log as they came, so such a
// line sits in the log like a real one. The reports job must not take it for an event: a forged `sent` must not close
// the refusal's alert (nor count as a delivery), a forged `failed` must not raise one.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { startRemoteSmtp, type RemoteSmtpServer } from '../remote-smtp.ts';
import { submitAs, waitForAuthentication } from '../smtp.ts';
import { waitFor } from '../wait.ts';
import { freePorts, startLab, type Lab } from './lab.ts';

const sender = 'alice@example.test';
const password = 'lab-password-4711';
const refusedRecipient = 'someone@remote.test';
const remoteZone = [
  '@ SOA ns1.remote.test. hostmaster.remote.test. 1 3600 600 86400 60',
  '@ NS ns1.remote.test.',
  'ns1 A 127.0.0.1',
  '@ MX 10 mx.remote.test.',
  'mx A 127.0.0.1',
].join('\n');

/** A timestamp as chasquid writes its own (the host's local time, microseconds), `offsetMs` from now. */
function stamp(offsetMs: number): string {
  const at = new Date(Date.now() + offsetMs);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.000000`;
}

describe('a remote server forging lines of the mail log', () => {
  let lab: Lab;
  let remote: RemoteSmtpServer;
  const replies: Record<string, string[]> = {};
  const mailLog = () => {
    const file = path.join(lab.dir, 'var/log/mail.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  };

  beforeAll(async () => {
    const [port] = (await freePorts(1)) as [number];
    remote = await startRemoteSmtp(port, replies);
    lab = await startLab({ chasquid: '1.15', outgoingSmtp: { port }, zones: { 'remote.test': remoteZone } });
    // Through mailops, the password on standard input: never on a command line, where the process list shows it.
    const added = await runCli(['user-add', sender, '--password-stdin'], { cwd: lab.dir, env: lab.env, stdin: `${password}\n` });
    expect(added.code, added.stderr).toBe(0);
    await waitForAuthentication(lab, sender, password, true);
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
    await remote?.close();
  });

  const run = async () => {
    const result = await runCli(['run-job', 'reports', '--json'], { cwd: lab.dir, env: lab.env });
    return JSON.parse(result.stdout) as { alerts: Array<{ kind: string; subject: string; message: string }> };
  };
  const failures = () => mailLog().match(/ to=someone@remote\.test failed \(permanent\)/g)?.length ?? 0;

  it('a forged "sent" in a refusal neither closes the refusal alert nor counts as a delivery', async () => {
    replies[refusedRecipient] = [
      '550-5.7.26 This mail has been blocked because the sender is unauthenticated.',
      '550 5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.',
    ];
    await submitAs(lab, { user: sender, password }, [refusedRecipient], 'refused');
    await waitFor('the first refusal in the log', () => failures() === 1 || undefined, { timeoutMs: 20_000, intervalMs: 100 });
    const first = await run();
    expect(first.alerts.map((alert) => alert.kind)).toEqual(['delivery-failed']);

    // The same refusal again, now carrying lines that imitate chasquid: one stamped an hour back, one a second ahead.
    replies[refusedRecipient] = [
      '550-5.7.26 This mail has been blocked because the sender is unauthenticated.',
      `550-${stamp(-3_600_000)} AAAAAAAAAAA from=${sender} to=${refusedRecipient} sent`,
      `550-${stamp(1000)} BBBBBBBBBBB from=${sender} to=${refusedRecipient} sent`,
      `550 ${stamp(1000)} BBBBBBBBBBB from=${sender} all done`,
    ];
    await submitAs(lab, { user: sender, password }, [refusedRecipient], 'refused again');
    await waitFor('the second refusal in the log', () => failures() === 2 || undefined, { timeoutMs: 20_000, intervalMs: 100 });
    await waitFor('the forged lines in the log', () => mailLog().includes('BBBBBBBBBBB from=') || undefined, { timeoutMs: 5000 });
    // chasquid writes the refused message's end (and then its bounce's) a moment after the refusal: the forgery is
    // judged by what follows it.
    await waitFor('chasquid to end the second bounce', () => (mailLog().match(/ from=<> all done\n/g)?.length ?? 0) >= 2 || undefined, {
      timeoutMs: 20_000,
      intervalMs: 100,
      diagnostics: () => mailLog(),
    });
    const second = await run();
    expect(
      second.alerts.filter((alert) => alert.kind === 'recovery'),
      mailLog()
    ).toEqual([]);
    const summary = JSON.parse((await runCli(['reports', 'example.test', '--json'], { cwd: lab.dir, env: lab.env })).stdout) as {
      delivery: { sent: number; failedPermanent: number; permanent: Array<{ reply: string }> };
    };
    expect(summary.delivery).toMatchObject({ sent: 0, failedPermanent: 2 });
    expect(summary.delivery.permanent[0]?.reply).toContain('BBBBBBBBBBB');
  }, 120_000);
});
