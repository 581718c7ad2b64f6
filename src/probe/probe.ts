// The probe: a real message sent through the mail host and captured after chasquid has processed (and signed) it.
//
// Deliverability checks and DKIM rotation both need proof of what a receiver would see. The probe:
//   1. makes sure the domain has mailops's probe sender (a generated password, kept in the state database) and the
//      probe inbox — a pipe alias that writes each message it receives to <data_dir>/mailops-probe/<domain>.eml
//      with `dd` (run by chasquid as its own user, no shell) — creating them on first use; chasquid is restarted
//      then, so that the new sender and alias work at once rather than after the next reload;
//   2. submits a message from the probe sender to the probe inbox on the submission port (STARTTLS, SMTP AUTH),
//      trusting the system's CAs and the certificate installed on the host for chasquid's hostname;
//   3. waits until the captured file holds this message (a nonce in its headers) and returns it with what a
//      verifier needs: the envelope sender, the HELO name and the time.
// Probes of one host run one at a time (the capture file is shared), under the host lock.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import tls from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { parseChasquidConf, type ChasquidSettings } from '../chasquid/config-file.ts';
import { daemonAccount } from '../chasquid/daemon-access.ts';
import { restartDaemon } from '../chasquid/daemon.ts';
import { DomainFiles } from '../chasquid/domain-files.ts';
import { chasquidHostname } from '../chasquid/hostname.ts';
import { tlsListeners } from '../chasquid/listeners.ts';
import { hashedUserEntry } from '../chasquid/users-file.ts';
import { failedError } from '../errors.ts';
import { applyChange } from '../ops/change.ts';
import type { OperationContext } from '../ops/context.ts';
import { generatePassword } from '../validation/password.ts';
import { probeInboxLocal, probeSenderLocal } from './names.ts';

export interface CapturedMessage {
  /** The message as chasquid delivered it to the probe inbox (headers it added and signatures included). */
  raw: Buffer;
  /** Envelope sender (MAIL FROM) and header From. */
  sender: string;
  recipient: string;
  /** chasquid's hostname, which it uses in HELO when it relays. */
  helo: string;
  /** The nonce in the message's Subject and Message-ID. */
  nonce: string;
  submittedAt: Date;
}

interface ProbeSetup {
  sender: string;
  password: string;
  inbox: string;
  captureFile: string;
  settings: ChasquidSettings;
}

function storedPassword(database: DatabaseSync, domain: string): string | undefined {
  const row = database.prepare('SELECT password FROM probe_senders WHERE domain = ?').get(domain) as { password: string } | undefined;
  return row?.password;
}

/** Creates (or repairs) the probe sender and inbox of a domain; restarts chasquid when it had to change anything. */
async function ensureProbe(context: OperationContext, domain: string): Promise<ProbeSetup> {
  const files = new DomainFiles(context.host, context.chasquidDir);
  const settings = parseChasquidConf((await files.read(files.paths.configFile))?.toString('utf8') ?? '');
  const captureDir = path.posix.join(settings.dataDir, 'mailops-probe');
  const captureFile = path.posix.join(captureDir, `${domain}.eml`);
  const sender = `${probeSenderLocal}@${domain}`;
  const inbox = `${probeInboxLocal}@${domain}`;
  const known = storedPassword(context.database, domain);
  if (known !== undefined) context.redactor.add(known);

  const rules = await files.aliasRules();
  const loaded = await files.load(domain, rules);
  const dd = (await context.host.verbs.callOk('which', ['dd'])).stdout.toString('utf8').trim();
  // chasquid splits a pipe alias's command on spaces, with no quoting.
  if (/\s/.test(captureFile) || /\s/.test(dd)) {
    throw failedError(
      'probe-path-unusable',
      `chasquid's data directory (${settings.dataDir}) contains white space, which a pipe alias cannot carry.`,
      { hint: 'Set data_dir in chasquid.conf to a path without spaces to use probes.' }
    );
  }
  const pipe = `${dd} of=${captureFile} status=none`;
  const senderReady = known !== undefined && loaded.users.has(probeSenderLocal);
  const inboxReady = loaded.aliases.get(probeInboxLocal)?.pipe === pipe;
  if (senderReady && inboxReady && known !== undefined) return { sender, password: known, inbox, captureFile, settings };

  const password = known !== undefined && loaded.users.has(probeSenderLocal) ? known : generatePassword();
  context.redactor.add(password);
  const entry = await hashedUserEntry(probeSenderLocal, password);
  await applyChange(context, { operation: 'probe-setup', target: domain }, async () => {
    const current = await files.load(domain, rules);
    const changedFiles: string[] = [];
    await files.ensureDomainDirectory(domain);
    const daemon = await daemonAccount(context.host, context.chasquidDir);
    await context.host.files.makeDirectory(captureDir, { mode: 0o700, owner: `${daemon.user}:${daemon.group}` });
    if (!current.users.has(probeSenderLocal) || known === undefined) {
      current.users.set(probeSenderLocal, entry);
      await files.write(current.usersFile, current.users.toBuffer());
      changedFiles.push(current.usersFile);
      context.database
        .prepare(
          'INSERT INTO probe_senders (domain, address, password, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (domain) DO UPDATE SET password = excluded.password, created_at = excluded.created_at'
        )
        .run(domain, sender, password, context.now().toISOString());
    }
    if (current.aliases.get(probeInboxLocal)?.pipe !== pipe) {
      current.aliases.setOwnPipe(probeInboxLocal, pipe);
      await files.write(current.aliasesFile, current.aliases.toString());
      changedFiles.push(current.aliasesFile);
    }
    // New entries would otherwise wait for the next reload (30 s), and chasquid before 1.15 ignores a users file
    // that appeared after it started.
    await restartDaemon(context.host, context.config.CHASQUID_RESTART, context.chasquidDir);
    return { result: undefined, changedFiles, summary: 'probe sender and inbox set up; chasquid restarted' };
  });
  return { sender, password, inbox, captureFile, settings };
}

/** The submission service: SMTP_SUBMISSION, else chasquid's explicit submission address, else MAIL_HOST's host:587. */
function submissionService(context: OperationContext, settings: ChasquidSettings): { host: string; port: number } {
  if (context.config.SMTP_SUBMISSION) return context.config.SMTP_SUBMISSION;
  // Submission listening everywhere (or socket-activated) is reached at MAIL_HOST's host.
  const listener = tlsListeners(settings, context.config.MAIL_HOST?.host ?? 'localhost').find((entry) => entry.service === 'submission');
  return listener ?? { host: context.config.MAIL_HOST?.host ?? 'localhost', port: 587 };
}

function submit(options: {
  host: string;
  port: number;
  servername: string;
  ca: Array<string | Buffer>;
  user: string;
  password: string;
  from: string;
  to: string;
  message: string;
}): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new SMTPConnection({
      host: options.host,
      port: options.port,
      secure: false,
      requireTLS: true,
      connectionTimeout: 15_000,
      socketTimeout: 30_000,
      tls: { servername: options.servername, ca: options.ca, allowPartialTrustChain: true },
    });
    const fail = (stage: string) => (error: Error) => {
      client.close();
      reject(
        failedError(
          'probe-submission-failed',
          `The probe message could not be submitted to ${options.host}:${options.port} (${stage}): ${error.message}.`,
          { hint: 'Check that chasquid runs and that its submission port is reachable from mailops (SMTP_SUBMISSION).', cause: error }
        )
      );
    };
    client.once('error', fail('connection'));
    client.connect(() => {
      client.login({ user: options.user, pass: options.password, method: 'PLAIN' }, (loginError) => {
        if (loginError) return fail('login')(loginError);
        client.send({ from: options.from, to: [options.to] }, options.message, (sendError) => {
          if (sendError) return fail('sending')(sendError);
          client.quit();
          resolve();
        });
      });
    });
  });
}

/** Sends a probe message through the host for `domain` and returns it as captured after chasquid processed it. */
export async function sendProbe(context: OperationContext, domain: string, options: { timeoutMs?: number } = {}): Promise<CapturedMessage> {
  const setup = await ensureProbe(context, domain);
  const hostname = await chasquidHostname(context.host, setup.settings);
  const installed = await context.host.files.read(path.posix.join(context.chasquidDir, 'certs', hostname, 'fullchain.pem'));
  const service = submissionService(context, setup.settings);
  const nonce = randomBytes(12).toString('hex');
  const submittedAt = context.now();
  const message = [
    `From: mailops probe <${setup.sender}>`,
    `To: <${setup.inbox}>`,
    `Subject: mailops probe ${nonce}`,
    `Date: ${submittedAt.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${nonce}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `This message was sent by mailops to check how ${domain} mail is signed and authenticated.`,
    `Probe ${nonce}.`,
    '',
  ].join('\r\n');

  return context.host.lock.run(async () => {
    await submit({
      ...service,
      servername: hostname,
      ca: [...tls.rootCertificates, ...(installed ? [installed] : [])],
      user: setup.sender,
      password: setup.password,
      from: setup.sender,
      to: setup.inbox,
      message,
    });
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      const captured = await context.host.files.read(setup.captureFile);
      // The body's last line arrives last: once it is there, the message is complete.
      if (captured?.includes(`Message-ID: <${nonce}@${domain}>`) && captured.includes(`Probe ${nonce}.`)) {
        return { raw: captured, sender: setup.sender, recipient: setup.inbox, helo: hostname, nonce, submittedAt };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw failedError(
      'probe-not-captured',
      `The probe message to ${setup.inbox} was accepted but did not arrive in ${setup.captureFile} in time.`,
      { hint: "Check chasquid's mail log on the host for the delivery to the pipe alias (chasquid runs it as its own user)." }
    );
  });
}
