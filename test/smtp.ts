// A real SMTP client for tests (nodemailer's SMTPConnection): log in on the lab's submission port, send mail to
// its SMTP port, and wait for what the lab's MDA delivered.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Lab } from './lab/lab.ts';
import { waitFor } from './wait.ts';

function connection(lab: Lab, port: number, ca?: string): SMTPConnection {
  return new SMTPConnection({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: port === lab.ports.submission,
    connectionTimeout: 5000,
    // Trust exactly the lab's self-signed certificate (or the given CA: pebble's root), for the name chasquid serves.
    tls: { ca: ca ?? readFileSync(path.join(lab.chasquidDir, 'certs', lab.hostname, 'fullchain.pem')), servername: lab.hostname },
  });
}

function open(client: SMTPConnection): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once('error', reject);
    client.connect(() => resolve());
  });
}

/** Whether chasquid accepts AUTH PLAIN with these credentials on its submission port (after STARTTLS). */
export async function canAuthenticate(lab: Lab, user: string, password: string, ca?: string): Promise<boolean> {
  const client = connection(lab, lab.ports.submission, ca);
  await open(client);
  try {
    return await new Promise<boolean>((resolve, reject) => {
      client.login({ user, pass: password, method: 'PLAIN' }, (error) => {
        if (!error) resolve(true);
        else if ((error as { code?: string }).code === 'EAUTH') resolve(false);
        else reject(error);
      });
    });
  } finally {
    client.close();
  }
}

/**
 * Waits until AUTH gives `expected` — until chasquid has reloaded its users file (every second in the lab); fails
 * naming the address if it never does.
 */
export async function waitForAuthentication(lab: Lab, user: string, password: string, expected: boolean, timeoutMs = 8000): Promise<void> {
  await waitFor(
    `chasquid to ${expected ? 'accept' : 'refuse'} AUTH as ${user} (after reloading its users file)`,
    async () => (await canAuthenticate(lab, user, password)) === expected,
    { timeoutMs, intervalMs: 200 }
  );
}

/** Sends a message to chasquid's SMTP port, as another mail server would. */
export async function deliver(lab: Lab, from: string, to: string, subject: string): Promise<void> {
  const client = connection(lab, lab.ports.smtp);
  await open(client);
  try {
    const message = `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${Date.now()}.${Math.random()}@test>\r\n\r\n${subject}\r\n`;
    await new Promise<void>((resolve, reject) => client.send({ from, to: [to] }, message, (error) => (error ? reject(error) : resolve())));
  } finally {
    client.quit();
  }
}

/**
 * Sends a message as `deliver` does, once chasquid accepts the recipient: a new alias (or sender) is live only after
 * chasquid reloaded its aliases (and users) file, every second in the lab; until then it refuses the recipient.
 */
export async function deliverOnceAccepted(lab: Lab, from: string, to: string, subject: string, timeoutMs = 8000): Promise<void> {
  let refusal = '';
  await waitFor(
    `chasquid to accept mail to ${to} (after reloading its aliases file)`,
    () =>
      deliver(lab, from, to, subject).then(
        () => true,
        (error: unknown) => {
          refusal = error instanceof Error ? error.message : String(error);
          return false;
        }
      ),
    { timeoutMs, intervalMs: 200, diagnostics: () => `last refusal: ${refusal}` }
  );
}

/** Messages the lab's MDA delivered to `recipient` so far, as text. */
export function delivered(lab: Lab, recipient: string): string[] {
  const dir = path.join(lab.mailDir, recipient);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.eml'))
    .sort()
    .map((name) => readFileSync(path.join(dir, name), 'utf8'));
}

/** Waits until a message whose text contains `marker` reaches `recipient`, and returns it. */
export async function waitForDelivery(lab: Lab, recipient: string, marker: string, timeoutMs = 10_000): Promise<string> {
  return waitFor(
    `a message with "${marker}" delivered to ${recipient}`,
    () => delivered(lab, recipient).find((message) => message.includes(marker)),
    { timeoutMs, intervalMs: 100 }
  );
}

/** Sends a whole message (as a receiver's report arrives) to chasquid's SMTP port, once chasquid accepts `to`. */
export async function deliverRawOnceAccepted(lab: Lab, from: string, to: string, raw: Buffer, timeoutMs = 8000): Promise<void> {
  let refusal = '';
  const send = async () => {
    const client = connection(lab, lab.ports.smtp);
    await open(client);
    try {
      await new Promise<void>((resolve, reject) => client.send({ from, to: [to] }, raw, (error) => (error ? reject(error) : resolve())));
    } finally {
      client.quit();
    }
  };
  await waitFor(
    `chasquid to accept mail to ${to}`,
    () =>
      send().then(
        () => true,
        (error: unknown) => {
          refusal = error instanceof Error ? error.message : String(error);
          return false;
        }
      ),
    { timeoutMs, intervalMs: 200, diagnostics: () => `last refusal: ${refusal}` }
  );
}

/** Submits a message as a sender would (submission port, STARTTLS trusting the lab's certificate, SMTP AUTH). */
export function submitAs(lab: Lab, sender: { user: string; password: string }, to: string[], subject: string): Promise<void> {
  const client = new SMTPConnection({
    host: '127.0.0.1',
    port: lab.ports.submission,
    secure: false,
    requireTLS: true,
    connectionTimeout: 5000,
    tls: { ca: readFileSync(path.join(lab.chasquidDir, 'certs', lab.hostname, 'fullchain.pem')), servername: lab.hostname },
  });
  const message = `From: <${sender.user}>\r\nTo: ${to.map((address) => `<${address}>`).join(', ')}\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`;
  return new Promise<void>((resolve, reject) => {
    client.once('error', reject);
    client.connect(() =>
      client.login({ user: sender.user, pass: sender.password, method: 'PLAIN' }, (loginError) => {
        if (loginError) return reject(loginError);
        client.send({ from: sender.user, to }, message, (sendError) => {
          client.quit();
          if (sendError) reject(sendError);
          else resolve();
        });
      })
    );
  });
}
