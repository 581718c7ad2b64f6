// `tls`, one result per TLS service of chasquid (25 STARTTLS, 587 STARTTLS, 465 TLS): the handshake works; the chain
// verifies; the certificate names the hostname; enough of its lifetime is left (a warning under one third: Let's
// Encrypt moves to 45-day certificates and no longer e-mails before expiry); and it is the certificate installed on the
// host — a renewed certificate that chasquid was not restarted for is still the old one on the wire.
//
// Where the services are (chasquid/listeners.ts): chasquid.conf's smtp_address, submission_address and
// submission_over_tls_address when they are explicit host:port (as in the lab); otherwise (systemd socket activation,
// the Debian default) 25, 587 and 465 on the hostname's addresses.

import type { X509Certificate } from 'node:crypto';
import type { TlsProbe } from '../acme/served-certificate.ts';
import type { Listener } from '../chasquid/listeners.ts';
import { type CheckResult, type CheckStatus, worse } from './result.ts';

/** The chasquid.conf setting of each service, for the fixes. */
const settingOf: Record<Listener['service'], string> = {
  smtp: 'smtp_address',
  submission: 'submission_address',
  'submission-tls': 'submission_over_tls_address',
};

export interface InstalledCertificate {
  /** The directory under certs/. */
  name: string;
  certificate: X509Certificate;
  /** What is wrong with the pair in certs/<name>/ (certificate.ts, installedPairProblems); empty when it matches. */
  pairProblems?: string[];
}

export interface TlsInput {
  endpoint: Listener;
  hostname: string;
  /** One probe per address the service was reached at. */
  probes: Array<{ address: string; probe: TlsProbe }>;
  installed: InstalledCertificate[];
  now: Date;
  /** The command that restarts chasquid (CHASQUID_RESTART), for the fix. */
  restartCommand: string;
}

const dayMs = 86_400_000;

interface Verdict {
  status: CheckStatus;
  text: string;
  fix?: string;
}

function judge(input: TlsInput, probe: TlsProbe): Verdict {
  const { endpoint, hostname, installed, now } = input;
  if (!probe.ok) {
    const where = `port ${endpoint.port} (${settingOf[endpoint.service]} in chasquid.conf)`;
    const fixes: Record<typeof probe.stage, string> = {
      connect: `Make sure chasquid listens on ${where} and that the firewall lets connections through${endpoint.port === 25 ? ' (if it does, the network mailops runs in may block outgoing port 25: run the check from elsewhere)' : ''}`,
      smtp: `Make sure chasquid, not another program, answers on ${where}`,
      starttls: `Make sure chasquid has a certificate in certs/${hostname}/ (fullchain.pem and privkey.pem) and restart it: ${input.restartCommand}`,
      handshake: `Install a valid certificate for ${hostname}: mailops cert-renew --force`,
    };
    return {
      status: 'fail',
      text: `${probe.stage === 'connect' ? 'cannot connect' : probe.stage === 'handshake' ? 'TLS handshake failed' : 'no STARTTLS'}: ${probe.error}`,
      fix: fixes[probe.stage],
    };
  }
  const leaf = probe.certificates[0];
  if (leaf === undefined)
    return {
      status: 'fail',
      text: 'the server sent no certificate',
      fix: `Install a certificate for ${hostname}: mailops cert-renew --force`,
    };
  const notAfter = new Date(leaf.validTo);
  const notBefore = new Date(leaf.validFrom);
  const daysLeft = (notAfter.getTime() - now.getTime()) / dayMs;
  const lifetime = (notAfter.getTime() - notBefore.getTime()) / dayMs;
  const days = `${Math.floor(daysLeft * 10) / 10} days left of ${Math.round(lifetime)}`;
  if (daysLeft <= 0)
    return {
      status: 'fail',
      text: `the certificate expired on ${notAfter.toISOString().slice(0, 10)}`,
      fix: 'Renew it: mailops cert-renew --force',
    };
  if (leaf.checkHost(hostname) === undefined) {
    const names = leaf.subjectAltName ?? leaf.subject;
    return {
      status: 'fail',
      text: `the certificate is for ${names}, not ${hostname}`,
      fix: `Get a certificate for ${hostname}: mailops cert-renew --force`,
    };
  }
  if (!probe.authorized) {
    return {
      status: 'fail',
      text: `the chain does not verify (${probe.authorizationError ?? 'unknown reason'})`,
      fix: `Install a certificate from a public CA with its intermediates in certs/${hostname}/fullchain.pem: mailops cert-renew --force`,
    };
  }
  const own =
    installed.find((entry) => entry.name === hostname) ??
    installed.find((entry) => entry.certificate.fingerprint256 === leaf.fingerprint256);
  if (own === undefined) {
    return {
      status: 'fail',
      text: 'the served certificate is not installed on the host',
      fix: `Install a certificate for ${hostname} in certs/${hostname}/: mailops cert-renew --force`,
    };
  }
  // The listener may still serve a good certificate loaded earlier, but chasquid does not start with this pair.
  const broken = (own.pairProblems ?? []).filter((problem) => !/ does not cover /.test(problem));
  if (broken.length > 0) {
    return {
      status: 'fail',
      text: `the installed pair is broken: ${broken.join('; ')} — chasquid will not start with it on its next restart`,
      fix: `Install a matching certificate and key in certs/${own.name}/: mailops cert-renew`,
    };
  }
  if (own.certificate.fingerprint256 !== leaf.fingerprint256) {
    return {
      status: 'fail',
      text: `serves a certificate (expires ${notAfter.toISOString().slice(0, 10)}) other than certs/${own.name}/fullchain.pem (expires ${new Date(own.certificate.validTo).toISOString().slice(0, 10)})`,
      fix: `Restart chasquid so that it loads the installed certificate: ${input.restartCommand}`,
    };
  }
  const summary = `${probe.protocol}, chain valid, ${hostname}, ${days}, same as certs/${own.name}/`;
  if (daysLeft < lifetime / 3) return { status: 'warn', text: summary, fix: 'Renew it now: mailops cert-renew' };
  return { status: 'pass', text: summary };
}

export function evaluateTls(input: TlsInput): CheckResult {
  const { endpoint } = input;
  const base = { id: 'tls' as const, port: endpoint.port, service: endpoint.service };
  const label = endpoint.mode === 'starttls' ? `STARTTLS on ${endpoint.port}` : `TLS on ${endpoint.port}`;
  if (input.probes.length === 0) {
    return {
      ...base,
      status: 'fail',
      summary: `${label}: ${endpoint.host} has no address to connect to`,
      fix: `Publish the A/AAAA records of ${endpoint.host}`,
    };
  }
  const verdicts = input.probes.map(({ address, probe }) => ({ address, verdict: judge(input, probe) }));
  const status = verdicts.reduce<CheckStatus>((worst, { verdict }) => worse(worst, verdict.status), 'pass');
  const several = verdicts.length > 1;
  const summary = `${label}: ${verdicts.map(({ address, verdict }) => (several ? `${address}: ${verdict.text}` : verdict.text)).join('; ')}`;
  const fix = [...new Set(verdicts.map(({ verdict }) => verdict.fix).filter((text) => text !== undefined))].join('; ');
  return { ...base, status, summary, ...(status === 'pass' ? {} : { fix }) };
}
