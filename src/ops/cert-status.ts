// `cert-status`: the certificates installed in CHASQUID_DIR/certs/ and what chasquid's TLS listeners actually serve.
// Read-only: no lock, no audit entry. A listener that cannot be reached is reported, not fatal.

import path from 'node:path';
import { certificateFacts, daysLeft, missingNames } from '../acme/certificate.ts';
import { renewalWindow } from '../acme/client.ts';
import { inspectInstalledPair } from '../acme/installed-pair.ts';
import { ariCertificateId, decideRenewal } from '../acme/renewal.ts';
import { servedCertificate } from '../acme/served-certificate.ts';
import { describeListener, tlsListeners, type Listener } from '../chasquid/listeners.ts';
import { issuedProfile } from '../store/renewal-info.ts';
import { acmeSettings } from './cert-renew.ts';
import { certificateTarget } from './certificate-target.ts';
import type { OperationContext } from './context.ts';

export interface InstalledCertificate {
  name: string;
  names: string[];
  issuer: string | undefined;
  notBefore: string | undefined;
  notAfter: string | undefined;
  daysLeft: number | undefined;
  renewDue: boolean;
  /** Why renewal is or is not due, or why the certificate cannot be read. */
  renewReason: string;
  /** The CA's suggested renewal window (ARI), when the CA offers one for this certificate. */
  renewalWindow?: { start: string; end: string };
  /** The profile the certificate was ordered with, when mailops ordered it from a CA that offers profiles. */
  profile?: string;
  /** Ports whose listener serves this very certificate (asked with its name as SNI). */
  served: number[];
  fingerprint: string | undefined;
  /**
   * What is wrong with the pair in certs/<name>/ (a file missing, the key not belonging to the certificate, the chain
   * out of order, for chasquid's hostname a configured name missing); empty when it matches. chasquid does not start
   * with a mismatched pair, so renewal is then due.
   */
  pairProblems: string[];
}

export interface ListenerStatus {
  service: Listener['service'];
  host: string;
  port: number;
  /** The certificate served for chasquid's hostname. */
  served: { names: string[]; issuer: string; notAfter: string; fingerprint: string; installed: string | undefined } | undefined;
  error: string | undefined;
}

export interface CertStatusResult {
  hostname: string;
  certificates: InstalledCertificate[];
  listeners: ListenerStatus[];
}

export async function certStatus(context: OperationContext): Promise<CertStatusResult> {
  const input = { host: context.host, now: context.now(), logger: context.logger, acme: acmeSettings(context.config) };
  const target = await certificateTarget(context, context.config.CERT_EXTRA_NAMES ?? []);
  const { paths, hostname } = target;
  const entries = (await input.host.files.list(paths.certsDir)) ?? [];
  const directories = entries.filter((entry) => entry.type === 'directory' || entry.type === 'symlink').map((entry) => entry.name);
  const listeners = tlsListeners(target.settings, hostname);

  // A directory is a certificate when it holds fullchain.pem or privkey.pem; certs/<domain>/ of the 1.11 DKIM hook
  // holds only dkim_privkey.pem and is not one.
  const contents = await Promise.all(
    directories.map(async (name) => ({ name, files: (await input.host.files.list(path.posix.join(paths.certsDir, name))) ?? [] }))
  );
  const names = contents
    .filter(({ files }) => files.some((file) => file.name === 'fullchain.pem' || file.name === 'privkey.pem'))
    .map(({ name }) => name);
  const installed = await Promise.all(
    names.map(async (name) => ({ name, read: await inspectInstalledPair(input.host, paths, name, name === hostname ? target.names : []) }))
  );
  // What each listener serves for each installed certificate's name (chasquid chooses by SNI).
  const probes = await Promise.all(
    installed.flatMap(({ name }) =>
      listeners.map(async (listener) => {
        try {
          const served = await servedCertificate(listener, name);
          return { name, listener, leaf: served.chain[0], error: undefined };
        } catch (error) {
          return { name, listener, leaf: undefined, error: (error as Error).message };
        }
      })
    )
  );

  const certificates = await Promise.all(
    installed.map(async ({ name, read }): Promise<InstalledCertificate> => {
      const { facts, problems: pairProblems } = read;
      if (!facts) {
        return {
          name,
          names: [],
          issuer: undefined,
          notBefore: undefined,
          notAfter: undefined,
          daysLeft: undefined,
          renewDue: true,
          renewReason: `the installed pair cannot be used: ${pairProblems.join('; ')}`,
          served: [],
          fingerprint: undefined,
          pairProblems,
        };
      }
      const missing = name === hostname ? missingNames(facts.names, target.names) : [];
      const mismatch = pairProblems.filter((problem) => !/ does not cover /.test(problem));
      const window = await renewalWindow(input.acme, (read.leaf as NonNullable<typeof read.leaf>).toString(), input.logger, {
        database: context.database,
        now: input.now,
      });
      const decision = decideRenewal(facts, input.now, window);
      const certificateId = ariCertificateId((read.leaf as NonNullable<typeof read.leaf>).toString());
      const profile = certificateId === undefined ? undefined : issuedProfile(context.database, certificateId);
      return {
        name,
        names: facts.names,
        issuer: facts.issuer,
        notBefore: facts.notBefore.toISOString(),
        notAfter: facts.notAfter.toISOString(),
        daysLeft: daysLeft(facts, input.now),
        renewDue: decision.due || missing.length > 0 || mismatch.length > 0,
        renewReason:
          mismatch.length > 0
            ? `the installed pair does not match: ${mismatch.join('; ')}`
            : missing.length > 0
              ? `it does not cover ${missing.join(', ')}`
              : decision.reason,
        ...(window === undefined ? {} : { renewalWindow: { start: window.start.toISOString(), end: window.end.toISOString() } }),
        ...(profile === undefined ? {} : { profile }),
        served: [
          ...new Set(
            probes
              .filter((probe) => probe.name === name && probe.leaf?.fingerprint256 === facts.fingerprint)
              .map((probe) => probe.listener.port)
          ),
        ],
        fingerprint: facts.fingerprint,
        pairProblems,
      };
    })
  );

  const listenerStatus = await Promise.all(
    listeners.map(async (listener): Promise<ListenerStatus> => {
      let probe = probes.find((candidate) => candidate.name === hostname && candidate.listener === listener);
      if (!probe) {
        try {
          probe = { name: hostname, listener, leaf: (await servedCertificate(listener, hostname)).chain[0], error: undefined };
        } catch (error) {
          probe = { name: hostname, listener, leaf: undefined, error: (error as Error).message };
        }
      }
      const leaf = probe.leaf;
      const facts = leaf ? certificateFacts(leaf) : undefined;
      return {
        service: listener.service,
        host: listener.host,
        port: listener.port,
        served: facts
          ? {
              names: facts.names,
              issuer: facts.issuer,
              notAfter: facts.notAfter.toISOString(),
              fingerprint: facts.fingerprint,
              installed: certificates.find((certificate) => certificate.fingerprint === facts.fingerprint)?.name,
            }
          : undefined,
        error: probe.error ?? (leaf ? undefined : `${describeListener(listener)} sent no certificate`),
      };
    })
  );

  return { hostname, certificates, listeners: listenerStatus };
}
