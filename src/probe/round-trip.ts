// One end-to-end probe: submit a message as the probe sender to the probe alias, wait for chasquid to deliver it
// (signed) into the capture file, read it back over SSH, and verify it with mailauth as a receiving server would.
//
// Concurrent probes of one domain share a capture file; each message carries a random token and we wait for ours.
// Right after the probe sender or alias was created, chasquid needs up to 30 s (its reload interval) to accept them,
// so authentication and the recipient are retried for that long; a stored password that no longer works is reset once.

import { randomUUID } from 'node:crypto';
import { authenticate } from 'mailauth';
import type { E2eInput, E2eVerdicts } from '../checks/e2e.ts';
import type { DnsResolver } from '../dns/resolver.ts';
import type { HostPort } from '../config.ts';
import type { OperationContext } from '../ops/context.ts';
import { ensureProbe, resetProbePassword } from './probe.ts';
import { submitMessage, type SubmitOutcome } from './submit.ts';

export interface RoundTripOptions {
  context: OperationContext;
  domain: string;
  hostname: string;
  /** The host's address, as the connecting IP of the SPF evaluation. */
  ip: string;
  submission: HostPort;
  resolver: DnsResolver;
  extraCa?: string[];
  /** How long to wait for chasquid to pick up a new probe sender or alias (its reload interval is 30 s). */
  reloadWaitMs?: number;
  deliveryWaitMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function probeMessage(sender: string, sink: string, domain: string, token: string): string {
  return [
    `From: mailops probe <${sender}>`,
    `To: <${sink}>`,
    `Subject: mailops deliverability probe ${token}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${token}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `This message was sent by "mailops check ${domain}" to verify DKIM, SPF and DMARC end to end.`,
    `Token: ${token}`,
    '',
  ].join('\r\n');
}

const stageText: Record<Exclude<SubmitOutcome, { ok: true }>['stage'], string> = {
  connect: 'could not connect to the submission service',
  auth: 'the probe sender could not log in',
  recipient: 'the probe alias was refused as a recipient',
  send: 'the message was refused',
};

export async function probeRoundTrip(options: RoundTripOptions): Promise<{ sender: string; outcome: E2eInput['outcome'] }> {
  const { context, domain } = options;
  const probe = await ensureProbe(context, domain);
  const token = randomUUID();
  const message = probeMessage(probe.sender, probe.sink, domain, token);
  const reloadWait = options.reloadWaitMs ?? 40_000;
  let password = probe.password;
  let reset = false;
  let deadline = Date.now() + (probe.created.length > 0 ? reloadWait : 0);
  const where = `${options.submission.host}:${options.submission.port}`;
  for (;;) {
    const outcome = await submitMessage({ host: options.submission.host, port: options.submission.port, servername: options.hostname, user: probe.sender, password,
      from: probe.sender, to: probe.sink, message, ...(options.extraCa ? { extraCa: options.extraCa } : {}) });
    if (outcome.ok) break;
    if (outcome.stage === 'auth' && !reset && probe.created.length === 0) {
      // The stored password no longer works (the sender was changed by hand): set a new one and wait for the reload.
      password = await resetProbePassword(context, domain);
      reset = true;
      deadline = Date.now() + reloadWait;
      continue;
    }
    if ((outcome.stage === 'auth' || outcome.stage === 'recipient') && Date.now() < deadline) {
      await sleep(500);
      continue;
    }
    return {
      sender: probe.sender,
      outcome: {
        failed: `${stageText[outcome.stage]} (${where}): ${outcome.error}`,
        fix: outcome.stage === 'connect'
          ? `Make sure chasquid's submission service answers at ${where} (SMTP_SUBMISSION) with a certificate for ${options.hostname}`
          : `Check that ${probe.sender} is a sender and ${probe.sink} an alias on the host (mailops users / aliases ${domain}), then run the check again`,
      },
    };
  }

  const captured = await waitForCapture(context, probe.captureFile, token, options.deliveryWaitMs ?? 20_000);
  if (captured === undefined) {
    return {
      sender: probe.sender,
      outcome: { failed: `the message was accepted but did not reach ${probe.sink} within ${(options.deliveryWaitMs ?? 20_000) / 1000} s`,
        fix: `Look for the message in chasquid's log (mail_log_path) and queue on the host` },
    };
  }
  const result = await authenticate(captured, { ip: options.ip, helo: options.hostname, sender: probe.sender, mta: options.hostname, resolver: options.resolver.forMailauth });
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? { comment: value } : {});
  const verdicts: E2eVerdicts = {
    dkim: result.dkim.results.map((signature) => ({
      domain: (signature.signingDomain ?? '').toLowerCase(),
      selector: signature.selector ?? '',
      result: signature.status?.result ?? 'none',
      ...text(signature.status?.comment),
    })),
    spf: { result: result.spf ? result.spf.status.result : 'none', ...text(result.spf ? result.spf.status.comment : undefined) },
    dmarc: { result: result.dmarc ? result.dmarc.status.result : 'none', ...text(result.dmarc ? result.dmarc.status.comment : undefined) },
  };
  return { sender: probe.sender, outcome: { verdicts } };
}

async function waitForCapture(context: OperationContext, file: string, token: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const content = (await context.host.files.read(file))?.toString('utf8');
    if (content?.includes(token)) {
      await context.host.files.remove(file).catch(() => false);
      return content;
    }
    await sleep(50);
  }
  return undefined;
}
