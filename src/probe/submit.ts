// Submits one message through the host's submission service as the probe sender, as a mail client would:
// STARTTLS (or TLS on 465) with the certificate verified for chasquid's hostname, AUTH PLAIN, one message.
// nodemailer's SMTP client does the protocol; this file only says which step failed.

import tls from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export type SubmitOutcome = { ok: true } | { ok: false; stage: 'connect' | 'auth' | 'recipient' | 'send'; error: string };

export interface SubmitOptions {
  host: string;
  port: number;
  /** chasquid's hostname: the name the certificate must carry, and our EHLO name. */
  servername: string;
  extraCa?: string[];
  user: string;
  password: string;
  from: string;
  to: string;
  message: string;
  timeoutMs?: number;
}

export async function submitMessage(options: SubmitOptions): Promise<SubmitOutcome> {
  const timeout = options.timeoutMs ?? 10_000;
  const client = new SMTPConnection({
    host: options.host,
    port: options.port,
    secure: options.port === 465,
    requireTLS: options.port !== 465,
    name: options.servername,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    tls: {
      servername: options.servername,
      ...(options.extraCa && options.extraCa.length > 0 ? { ca: [...tls.getCACertificates('default'), ...options.extraCa] } : {}),
    },
  });
  const failure = (stage: Exclude<SubmitOutcome, { ok: true }>['stage'], error: unknown): SubmitOutcome =>
    ({ ok: false, stage, error: error instanceof Error ? error.message : String(error) });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('error', reject);
      client.connect(() => resolve());
    });
  } catch (error) {
    client.close();
    return failure('connect', error);
  }
  try {
    const loggedIn = await new Promise<unknown>((resolve) => client.login({ user: options.user, pass: options.password, method: 'PLAIN' }, (error) => resolve(error)));
    if (loggedIn) return failure('auth', loggedIn);
    const sent = await new Promise<unknown>((resolve) => client.send({ from: options.from, to: [options.to] }, options.message, (error) => resolve(error)));
    if (sent) return failure((sent as { code?: string }).code === 'EENVELOPE' ? 'recipient' : 'send', sent);
    return { ok: true };
  } finally {
    client.quit();
  }
}
