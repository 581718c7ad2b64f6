// `cert-renew`: obtain a certificate for chasquid's hostname (and CERT_EXTRA_NAMES) from the ACME CA through DNS-01,
// install it, restart chasquid, and check that every TLS listener serves it — or put the previous one back.
//
// Without --force nothing happens unless renewal is due: no certificate yet, a configured name missing from it, the
// CA's ARI window reached, or less than a third of its lifetime left. Issuing happens outside the host lock (it
// talks to the CA and DNS, not the host, and may wait minutes for DNS); installing runs as one change under
// applyChange, after the pair was checked.

import { accountKeyFile } from '../acme/account.ts';
import { missingNames, parseChain, type CertificatePair } from '../acme/certificate.ts';
import { issueCertificate, renewalWindow, type AcmeSettings, type IssuedCertificate } from '../acme/client.ts';
import { assertInstallable, installCertificate } from '../acme/install.ts';
import { inspectInstalledPair, pairDirLabel } from '../acme/installed-pair.ts';
import { ariCertificateId, decideRenewal } from '../acme/renewal.ts';
import { chasquidVersion } from '../chasquid/daemon.ts';
import { tlsListeners } from '../chasquid/listeners.ts';
import { describePreflight, preflightProblems, type PreflightProblem } from '../chasquid/preflight.ts';
import { requireSettings, type Config } from '../config.ts';
import type { RecordPublishing } from '../dns/publisher.ts';
import { failedError, MailopsError } from '../errors.ts';
import { saveAcmeAccount, saveIssuedCertificate } from '../store/renewal-info.ts';
import { certificateTarget } from './certificate-target.ts';
import { applyChange } from './change.ts';
import type { OperationContext } from './context.ts';

export interface CertRenewInput {
  force: boolean;
  /** Made when a certificate is to be issued (the manual provider asks a person, so not before it is needed). */
  publishing: () => RecordPublishing;
  /** Obtains the pair; the ACME CA by default. */
  issue?: (names: string[]) => Promise<CertificatePair & Pick<IssuedCertificate, 'replaced' | 'profile' | 'accountUrl'>>;
  serveTimeoutMs?: number;
  /** Told, in a sentence for a person, which step starts (the bot edits its reply with it). */
  progress?: (text: string) => Promise<void> | void;
}

/** The ACME settings of the configuration (ACME_EMAIL is required only to issue). */
export function acmeSettings(config: Config): AcmeSettings {
  return {
    directoryUrl: config.ACME_DIRECTORY,
    email: config.ACME_EMAIL ?? '',
    ...(config.ACME_CA_FILE === undefined ? {} : { caFile: config.ACME_CA_FILE }),
    accountKeyFile: accountKeyFile(config.STATE_DB),
    ...(config.ACME_PROFILE === undefined ? {} : { profile: config.ACME_PROFILE }),
  };
}

interface CertRenewFacts {
  /** The certificate's directory name: chasquid's hostname. */
  name: string;
  names: string[];
  issuer: string | undefined;
  notAfter: string | undefined;
  /** Why it was renewed, or why not. */
  reason: string;
}

/**
 * `served` only when renewed: the ports seen serving the new certificate after the restart. When nothing was renewed,
 * nothing was installed or looked at (cert-status shows what each listener serves).
 */
export type CertRenewResult =
  | (CertRenewFacts & {
      renewed: true;
      served: number[];
      /** The ARI identifier of the certificate replaced, when the CA linked the new one to it (`replaces`). */
      replaced?: string;
      /** The certificate profile the CA issued under, when it offers profiles. */
      profile?: string;
    })
  | (CertRenewFacts & { renewed: false });

export async function certRenew(context: OperationContext, input: CertRenewInput): Promise<CertRenewResult> {
  const { config } = context;
  const acme = acmeSettings(config);
  const target = await certificateTarget(context, config.CERT_EXTRA_NAMES ?? []);
  const { paths, hostname, names } = target;
  const installedPair = await inspectInstalledPair(context.host, paths, hostname, names);
  const installed = installedPair.facts;
  // A key that does not belong to its certificate (or a file of the pair missing): chasquid does not start with it on
  // its next restart, so a plain cert-renew repairs it.
  const mismatch = installedPair.problems.filter((problem) => !/ does not cover /.test(problem));

  let reason: string;
  // The ARI identifier of the installed certificate, when the CA offers ARI: the new order says it replaces it.
  let replaces: string | undefined;
  if (!installedPair.files.fullchain && !installedPair.files.privkey) reason = `no certificate is installed for ${hostname}`;
  else if (mismatch.length > 0) reason = `the installed pair does not match: ${mismatch.join('; ')}`;
  else if (!installed || !installedPair.leaf) reason = `the installed certificate of ${hostname} cannot be read`;
  else if (missingNames(installed.names, names).length > 0)
    reason = `the installed certificate does not cover ${missingNames(installed.names, names).join(', ')}`;
  else {
    const window = await renewalWindow(acme, installedPair.leaf.toString(), context.logger, {
      database: context.database,
      now: context.now(),
    });
    replaces = window?.certificateId;
    const decision = decideRenewal(installed, context.now(), window);
    reason = decision.reason;
    if (!decision.due && !input.force) {
      return {
        renewed: false,
        name: hostname,
        names: installed.names,
        issuer: installed.issuer,
        notAfter: installed.notAfter.toISOString(),
        reason: `not due: ${reason}`,
      };
    }
    if (!decision.due) reason = `forced, although not due: ${reason}`;
  }

  // Before asking the CA: chasquid must be able to start once the new pair is in (its own pair is what is replaced).
  const version = await chasquidVersion(context.host);
  const blocking = (await preflightProblems(context.host, context.chasquidDir, version)).filter(
    (problem) => problem.file !== `${pairDirLabel(hostname)}/`
  );
  if (blocking.length > 0) {
    throw failedError(
      'restart-refused',
      `No certificate was requested: chasquid must restart to load it, and it would not come back with what is in ${context.chasquidDir}: ${describePreflight(blocking)}. Nothing was changed.`,
      {
        hint: `Fix ${[...new Set(blocking.map((problem) => problem.file))].join(', ')} first (chasquid.conf: correct the line named, or restore it from .mailops-backup/), then run cert-renew again.`,
      }
    );
  }

  let pair: CertificatePair & Pick<IssuedCertificate, 'replaced' | 'profile' | 'accountUrl'>;
  await input.progress?.(`Asking the ACME CA for a certificate for ${names.join(', ')} (DNS-01 challenges)…`);
  if (input.issue) pair = await input.issue(names);
  else {
    requireSettings(config, 'acme', 'cert-renew');
    pair = await issueCertificate(acme, names, input.publishing(), context.logger, input.progress, {
      ...(replaces === undefined ? {} : { replaces }),
    });
  }
  // Checked before the lock and before any file on the host: an unfit pair changes nothing.
  assertInstallable(pair, names, context.now());
  const listeners = tlsListeners(target.settings, hostname);
  await input.progress?.(
    `Installing the certificate, restarting chasquid and checking that ports ${listeners.map((listener) => listener.port).join(', ')} serve it…`
  );
  return applyChange(context, { operation: 'cert-renew', target: hostname }, async () => {
    const installedNow = await installCertificate(
      {
        host: context.host,
        paths,
        name: hostname,
        names,
        restartCommand: config.CHASQUID_RESTART,
        listeners,
        logger: context.logger,
        now: context.now(),
        ...(input.serveTimeoutMs === undefined ? {} : { serveTimeoutMs: input.serveTimeoutMs }),
      },
      pair
    ).catch(async (error: unknown) => {
      throw await withCause(context, error);
    });
    if (pair.accountUrl !== undefined) saveAcmeAccount(context.database, acme.directoryUrl, pair.accountUrl, context.now());
    const newLeaf = parseChain(pair.fullchain)[0];
    const newId = newLeaf === undefined ? undefined : ariCertificateId(newLeaf.toString());
    if (newId !== undefined && (pair.profile !== undefined || pair.replaced !== undefined))
      saveIssuedCertificate(context.database, {
        certificateId: newId,
        ...(pair.profile === undefined ? {} : { profile: pair.profile }),
        ...(pair.replaced === undefined ? {} : { replaced: pair.replaced }),
        issuedAt: context.now(),
      });
    const result: CertRenewResult = {
      renewed: true,
      name: hostname,
      names: installedNow.facts.names,
      issuer: installedNow.facts.issuer,
      notAfter: installedNow.facts.notAfter.toISOString(),
      reason,
      served: installedNow.served.map((listener) => listener.port),
      ...(pair.replaced === undefined ? {} : { replaced: pair.replaced }),
      ...(pair.profile === undefined ? {} : { profile: pair.profile }),
    };
    return {
      result,
      changedFiles: installedNow.changedFiles,
      summary: `new certificate for ${names.join(', ')}, valid until ${result.notAfter}`,
    };
  });
}

/**
 * A failed installation says what chasquid could not start with, when that is something in CHASQUID_DIR rather than
 * the certificate (chasquid.conf broken meanwhile, another pair, a DKIM key): otherwise "putting the previous
 * certificate back failed too" leaves the operator guessing.
 */
async function withCause(context: OperationContext, error: unknown): Promise<unknown> {
  if (!(error instanceof MailopsError) || !['certificate-rollback-failed', 'certificate-install-rolled-back'].includes(error.code))
    return error;
  let problems: PreflightProblem[];
  try {
    problems = await preflightProblems(context.host, context.chasquidDir, await chasquidVersion(context.host));
  } catch {
    return error;
  }
  if (problems.length === 0) return error;
  const files = [...new Set(problems.map((problem) => problem.file))].join(', ');
  return failedError(
    error.code,
    `The cause is ${files}, not the new certificate — chasquid cannot start with it: ${describePreflight(problems)}. ${error.message}`,
    {
      hint: `Fix ${files} on the host (chasquid.conf: correct the line named, or restore it from .mailops-backup/), restart chasquid, then run cert-renew --force again.`,
      cause: error,
    }
  );
}
