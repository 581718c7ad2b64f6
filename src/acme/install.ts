// Installing a certificate for chasquid, and taking it back when chasquid does not serve it.
//
//   1. check the pair (key matches, chain in order, valid now, names covered) — a pair that fails is refused before
//      anything on the host is touched;
//   2. keep the installed pair as `.mailops-backup/cert-previous/<name>/` (a manual rollback is two `cp` and a
//      restart), besides the timestamped backups every atomic write keeps;
//   3. write privkey.pem and fullchain.pem atomically (a new key: root, the daemon's group, 0640);
//   4. restart chasquid (CHASQUID_RESTART) — certificates load only at start-up;
//   5. connect to every TLS listener and wait until each serves the new certificate;
//   6. if the restart fails or any listener serves something else, put the previous pair back, restart again, check
//      that the previous certificate is served, and report the failure.

import path from 'node:path';
import { daemonAccount } from '../chasquid/daemon-access.ts';
import { restartDaemon } from '../chasquid/daemon.ts';
import { describeListener, type Listener } from '../chasquid/listeners.ts';
import type { ChasquidPaths } from '../chasquid/paths.ts';
import { failedError, MailopsError } from '../errors.ts';
import type { MailHost } from '../host/mail-host.ts';
import type { Logger } from '../log.ts';
import { checkPair, parseChain, type CertificateFacts, type CertificatePair } from './certificate.ts';
import { servedCertificate } from './served-certificate.ts';

export interface InstallContext {
  host: MailHost;
  paths: ChasquidPaths;
  /** The certificate's directory name under certs/ (chasquid's hostname). */
  name: string;
  /** The names the certificate must cover. */
  names: readonly string[];
  restartCommand: readonly string[];
  listeners: readonly Listener[];
  logger: Logger;
  now: Date;
  /** How long to wait for every listener to serve the new certificate after the restart (default 10 s). */
  serveTimeoutMs?: number;
}

export interface InstallResult {
  facts: CertificateFacts;
  /** Files written under CHASQUID_DIR (for the git commit). */
  changedFiles: string[];
  /** Listeners that were seen serving the new certificate. */
  served: Listener[];
}

/** Refuses a pair that must not be installed, saying every reason; nothing is touched. */
export function assertInstallable(pair: CertificatePair, names: readonly string[], now: Date): CertificateFacts {
  const { facts, problems } = checkPair(pair, names, now);
  if (!facts || problems.length > 0) {
    throw failedError(
      'certificate-unfit',
      `The certificate was not installed, because ${problems.join('; ')}. Nothing on the mail host was changed.`,
      {
        hint: 'The CA (or whatever produced the pair) gave something unusable; run cert-renew --force again, and check CERT_EXTRA_NAMES and the hostname in chasquid.conf.',
      }
    );
  }
  return facts;
}

function pairFiles(paths: ChasquidPaths, name: string): { fullchain: string; privkey: string } {
  const dir = paths.certificateDir(name);
  return { fullchain: path.posix.join(dir, 'fullchain.pem'), privkey: path.posix.join(dir, 'privkey.pem') };
}

/** The directory that holds the pair installed before the last renewal. */
export function previousPairDir(paths: ChasquidPaths, name: string): string {
  return path.posix.join(paths.backupRoot, 'cert-previous', name);
}

async function readPair(host: MailHost, files: { fullchain: string; privkey: string }): Promise<CertificatePair | undefined> {
  const [fullchain, privkey] = await Promise.all([host.files.read(files.fullchain), host.files.read(files.privkey)]);
  if (fullchain === undefined || privkey === undefined) return undefined;
  return { fullchain: fullchain.toString('utf8'), privkey: privkey.toString('utf8') };
}

/**
 * The previous pair (kept under .mailops-backup/cert-previous/, mode 0600) and the new one, written as one
 * all-or-nothing change: chasquid refuses to start with a key that does not match its certificate, so the two
 * files never change apart — not even when mailops is killed in the middle.
 */
async function writePair(context: InstallContext, pair: CertificatePair, previous: CertificatePair | undefined): Promise<void> {
  const { host, paths, name } = context;
  const files = pairFiles(paths, name);
  const { group } = await daemonAccount(host, paths.root);
  const keep = previousPairDir(paths, name);
  await host.files.apply([
    ...(previous === undefined
      ? []
      : ([
          { kind: 'directory', directory: paths.backupRoot, mode: 0o700 },
          { kind: 'directory', directory: path.posix.join(paths.backupRoot, 'cert-previous'), mode: 0o700 },
          { kind: 'directory', directory: keep, mode: 0o700 },
          { kind: 'write', file: path.posix.join(keep, 'privkey.pem'), content: previous.privkey, options: { createMode: 0o600 } },
          { kind: 'write', file: path.posix.join(keep, 'fullchain.pem'), content: previous.fullchain, options: { createMode: 0o600 } },
        ] as const)),
    { kind: 'directory', directory: paths.certsDir, mode: 0o755 },
    { kind: 'directory', directory: paths.certificateDir(name), mode: 0o755 },
    { kind: 'write', file: files.privkey, content: pair.privkey, options: { createOwner: `root:${group}`, createMode: 0o640 } },
    { kind: 'write', file: files.fullchain, content: pair.fullchain, options: { createMode: 0o644 } },
  ]);
}

function restart(context: InstallContext): Promise<void> {
  return restartDaemon(context.host, context.restartCommand, context.paths.root);
}

/** Waits until every listener serves the certificate with `fingerprint`; undefined when all do, else what is wrong. */
async function waitUntilServed(context: InstallContext, fingerprint: string): Promise<{ served: Listener[]; problems: string[] }> {
  const deadline = Date.now() + (context.serveTimeoutMs ?? 10_000);
  let pause = 100;
  for (;;) {
    const results = await Promise.all(
      context.listeners.map(async (listener) => {
        try {
          const served = await servedCertificate(listener, context.name, 5000);
          const leaf = served.chain[0];
          return leaf?.fingerprint256 === fingerprint
            ? { listener }
            : {
                listener,
                problem: `${describeListener(listener)} serves another certificate (${leaf?.subject.replaceAll('\n', ', ')}, valid until ${leaf?.validTo})`,
              };
        } catch (error) {
          return {
            listener,
            problem:
              error instanceof MailopsError
                ? error.message.replace(/^Could not read the certificate served by /, 'no certificate from ')
                : String(error),
          };
        }
      })
    );
    const problems = results.flatMap((result) => ('problem' in result && result.problem !== undefined ? [result.problem] : []));
    const served = results.filter((result) => !('problem' in result)).map((result) => result.listener);
    if (problems.length === 0 || Date.now() + pause > deadline) return { served, problems };
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 1000);
  }
}

function leafFingerprint(pair: CertificatePair): string | undefined {
  try {
    return parseChain(pair.fullchain)[0]?.fingerprint256;
  } catch {
    return undefined;
  }
}

/** Installs the pair (see the top of this file); on failure, the previous pair is back and the error says so. */
export async function installCertificate(context: InstallContext, pair: CertificatePair): Promise<InstallResult> {
  const facts = assertInstallable(pair, context.names, context.now);
  const { host, paths, name, logger } = context;
  const files = pairFiles(paths, name);
  const changedFiles = [files.privkey, files.fullchain];
  const previous = await readPair(host, files);
  await writePair(context, pair, previous);
  logger.info({ name, fingerprint: facts.fingerprint }, 'new certificate written; restarting chasquid');

  let failure: string;
  try {
    await restart(context);
    const { served, problems } = await waitUntilServed(context, facts.fingerprint);
    if (problems.length === 0) return { facts, changedFiles, served };
    failure = `chasquid does not serve it: ${problems.join('; ')}`;
  } catch (error) {
    failure = `chasquid did not come back after the restart (${error instanceof Error ? error.message : String(error)})`;
  }

  logger.error({ name, failure }, 'the new certificate is not served; putting the previous one back');
  try {
    await host.files.apply(
      previous
        ? [
            { kind: 'write', file: files.privkey, content: previous.privkey },
            { kind: 'write', file: files.fullchain, content: previous.fullchain },
          ]
        : [
            { kind: 'remove', file: files.fullchain },
            { kind: 'remove', file: files.privkey },
          ]
    );
    await restart(context);
  } catch (error) {
    throw failedError(
      'certificate-rollback-failed',
      `The new certificate for ${name} was installed, but ${failure}; putting the previous certificate back failed too: ${error instanceof Error ? error.message : String(error)}.`,
      {
        hint: `chasquid may be down. On the host, copy ${previousPairDir(paths, name)}/*.pem into ${paths.certificateDir(name)}/ and restart chasquid.`,
        cause: error,
      }
    );
  }
  const previousFingerprint = previous ? leafFingerprint(previous) : undefined;
  const check = previousFingerprint ? await waitUntilServed(context, previousFingerprint) : { served: [], problems: [] };
  const after = !previous
    ? 'there was no previous certificate, so the new files were removed'
    : check.problems.length === 0
      ? `chasquid serves the previous certificate again on ${check.served.map(describeListener).join(', ')}`
      : `but the previous certificate is not served everywhere either: ${check.problems.join('; ')}`;
  throw failedError(
    'certificate-install-rolled-back',
    `The new certificate for ${name} was installed, but ${failure}. The previous certificate was put back and chasquid restarted; ${after}.`,
    { hint: "Look at chasquid's log on the host for why it did not serve the new certificate, fix that, and run cert-renew --force again." }
  );
}
