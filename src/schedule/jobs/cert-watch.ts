// The cert-watch job: the certificates installed and served (cert-status), renewed when due (cert-renew, with the
// bot's unattended DNS publishing), and alerts on what changed:
//   - a renewal that fails pages the on-call role once, then the job retries with growing pauses (10 minutes,
//     doubling, at most 3 hours; the scheduler runs it again at `retryAt`) without paging again — unless it is still
//     failing and the certificate has crossed into less than a third of its lifetime, or less than 7 days, left: then
//     it pages again, louder (an escalation, once per step). With DNS_PROVIDER=manual nobody can publish the ACME
//     challenge unattended, so a due renewal is an alert asking for `mailops cert-renew`;
//   - a renewal that works says so (`renewed`), naming the failed attempts before it and why it was due (the CA's
//     ARI window — "the CA asked for early renewal" when the CA moved it before the usual third of the lifetime, as
//     after a revocation — or the certificate's lifetime);
//   - a listener serving another certificate than the one installed is a `cert-mismatch` (paged), and its end a
//     recovery.
// The expiry of each certificate is kept for the health endpoint.

import { asMailopsError } from '../../errors.ts';
import { certRenew } from '../../ops/cert-renew.ts';
import { certStatus, type InstalledCertificate, type ListenerStatus } from '../../ops/cert-status.ts';
import { saveCertificateExpiries } from '../../store/latest-results.ts';
import type { Job, JobEnvironment } from '../job.ts';
import type { JobAlert } from '../outcome.ts';

interface RenewalFailure {
  attempts: number;
  /** The escalation step last paged for (0: the first alert). */
  level: number;
  firstFailedAt: string;
  lastError: string;
  /** When the job runs again for a retry (kept here so that a restart keeps it). */
  nextRetryAt?: string;
}

const dayMs = 24 * 60 * 60 * 1000;

/** 0: more than a third of the lifetime left; 1: less than a third; 2: less than 7 days (or no certificate at all). */
export function escalationLevel(certificate: Pick<InstalledCertificate, 'notBefore' | 'notAfter'> | undefined, now: Date): number {
  if (certificate?.notAfter === undefined) return 2;
  const left = new Date(certificate.notAfter).getTime() - now.getTime();
  if (left < 7 * dayMs) return 2;
  const lifetime =
    certificate.notBefore === undefined ? undefined : new Date(certificate.notAfter).getTime() - new Date(certificate.notBefore).getTime();
  return lifetime !== undefined && left < lifetime / 3 ? 1 : 0;
}

/** The pause before retry number `attempts` (after that many failures): first, doubling, at most max. */
export function retryDelay(attempts: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.max(0, attempts - 1));
}

const daysText = (certificate: InstalledCertificate | undefined) =>
  certificate?.daysLeft === undefined
    ? 'no readable certificate is installed'
    : `it expires in ${certificate.daysLeft} days (${certificate.notAfter})`;

const capitalised = (text: string) => `${text.slice(0, 1).toUpperCase()}${text.slice(1)}`;

function watchMismatch(
  environment: JobEnvironment,
  hostname: string,
  own: InstalledCertificate | undefined,
  listeners: ListenerStatus[]
): JobAlert[] {
  const { alerts } = environment;
  const key = `cert-mismatch:${hostname}`;
  const open = alerts.get(key);
  if (own?.fingerprint === undefined) return [];
  const wrong = listeners.filter((listener) => listener.served !== undefined && listener.served.fingerprint !== own.fingerprint);
  if (wrong.length === 0) {
    // Only a listener seen serving the installed certificate ends a mismatch; one that cannot be reached tells nothing.
    if (open === undefined || listeners.some((listener) => listener.served === undefined)) return [];
    alerts.close(key);
    return [
      {
        kind: 'recovery',
        severity: 'resolved',
        subject: `${hostname}: every listener serves the installed certificate again`,
        message: `Every TLS listener of ${hostname} serves the installed certificate again.`,
      },
    ];
  }
  const fingerprint = wrong
    .map((listener) => `${listener.port}=${listener.served?.fingerprint}`)
    .sort()
    .join(',');
  if (open?.fingerprint === fingerprint) return [];
  alerts.save({ key, kind: 'cert-mismatch', fingerprint, updatedAt: environment.context.now().toISOString(), state: {} });
  const ports = wrong
    .map(
      (listener) =>
        `${listener.port} (${listener.service}) serves ${listener.served?.names.join(', ')}, expiring ${listener.served?.notAfter.slice(0, 10)}`
    )
    .join('; ');
  return [
    {
      kind: 'cert-mismatch',
      severity: 'critical',
      subject: `${hostname}: a listener serves another certificate than the one installed`,
      message: `${hostname}: ${ports} — not the certificate installed in certs/${hostname}/ (expiring ${own.notAfter?.slice(0, 10)}). chasquid loads certificates when it starts: restart it (${environment.context.config.CHASQUID_RESTART.join(' ')}).`,
    },
  ];
}

interface RenewalOutcome {
  alerts: JobAlert[];
  retryAt?: Date;
  renewed: boolean;
  failed: string | undefined;
}

async function watchRenewal(environment: JobEnvironment, hostname: string, own: InstalledCertificate | undefined): Promise<RenewalOutcome> {
  const { alerts, context, options } = environment;
  const key = `renewal-failed:${hostname}`;
  const open = alerts.get<RenewalFailure>(key);
  const now = context.now();
  if (own !== undefined && !own.renewDue) {
    if (open === undefined) return { alerts: [], renewed: false, failed: undefined };
    alerts.close(key);
    return {
      alerts: [
        {
          kind: 'renewed',
          severity: 'resolved',
          subject: `${hostname}: the certificate is no longer due`,
          message: `The certificate of ${hostname} is no longer due for renewal (${daysText(own)}); it was renewed outside this job.`,
        },
      ],
      renewed: false,
      failed: undefined,
    };
  }

  let error: string;
  let retry = true;
  if (context.config.DNS_PROVIDER === 'manual') {
    error = `renewal is due (${own?.renewReason ?? 'no certificate'}), and with DNS_PROVIDER=manual mailops cannot publish the ACME challenge by itself: run mailops cert-renew`;
    retry = false;
  } else {
    try {
      const result = await certRenew(context, { force: false, publishing: environment.publishing });
      if (!result.renewed) return { alerts: [], renewed: false, failed: undefined };
      alerts.close(key);
      const after =
        open === undefined
          ? ''
          : ` after ${open.state.attempts} failed attempt${open.state.attempts === 1 ? '' : 's'} since ${open.state.firstFailedAt}`;
      return {
        alerts: [
          {
            kind: 'renewed',
            severity: 'resolved',
            subject: `${hostname}: certificate renewed`,
            message: `Renewed the certificate of ${hostname}${after}: ${result.names.join(', ')} from ${result.issuer ?? 'the CA'}, valid until ${result.notAfter}, served on ports ${result.served.join(', ') || 'none'}. Why: ${result.reason}${result.replaced === undefined ? '' : ` (the CA linked it to the certificate it replaces, ${result.replaced})`}.`,
          },
        ],
        renewed: true,
        failed: undefined,
      };
    } catch (caught) {
      error = asMailopsError(caught).explanation.replaceAll('\n', ' ').replace(/\.$/, '');
    }
  }

  const attempts = (open?.state.attempts ?? 0) + 1;
  const level = escalationLevel(own, now);
  const retryAt = retry
    ? new Date(now.getTime() + retryDelay(attempts, options.renewalRetryFirstMs, options.renewalRetryMaxMs))
    : undefined;
  const next = retryAt === undefined ? 'mailops tries again at its next scheduled run' : `mailops tries again at ${retryAt.toISOString()}`;
  const state: RenewalFailure = {
    attempts,
    level: open?.state.level ?? 0,
    firstFailedAt: open?.state.firstFailedAt ?? now.toISOString(),
    lastError: error,
    ...(retryAt === undefined ? {} : { nextRetryAt: retryAt.toISOString() }),
  };
  const messages: JobAlert[] = [];
  if (open === undefined) {
    messages.push({
      kind: 'renewal-failed',
      severity: 'critical',
      subject: `${hostname}: certificate renewal failed`,
      message: `Renewing the certificate of ${hostname} failed: ${error}. ${capitalised(daysText(own))}; ${next}.`,
    });
  } else if (level > open.state.level) {
    state.level = level;
    messages.push({
      kind: 'renewal-failed',
      severity: 'critical',
      escalated: true,
      subject: `${hostname}: certificate renewal STILL FAILING`,
      message: `ESCALATION: renewing the certificate of ${hostname} still fails after ${attempts} attempts, and ${level === 2 ? 'less than 7 days are' : 'less than a third of its lifetime is'} left — ${daysText(own)}. Last error: ${error}. ${capitalised(next)}.`,
    });
  } else {
    context.logger.warn({ certificate: hostname, attempts, error }, 'certificate renewal failed again');
  }
  alerts.save<RenewalFailure>({ key, kind: 'renewal-failed', fingerprint: hostname, updatedAt: now.toISOString(), state });
  return { alerts: messages, ...(retryAt === undefined ? {} : { retryAt }), renewed: false, failed: error };
}

export const certWatchJob: Job = async (environment) => {
  const { context } = environment;
  const status = await certStatus(context);
  saveCertificateExpiries(context.database, status.certificates, context.now());
  const own = status.certificates.find((certificate) => certificate.name === status.hostname);
  const mismatch = watchMismatch(environment, status.hostname, own, status.listeners);
  const renewal = await watchRenewal(environment, status.hostname, own);
  if (renewal.renewed) {
    const after = await certStatus(context);
    saveCertificateExpiries(context.database, after.certificates, context.now());
  }
  const mismatched = environment.alerts.get(`cert-mismatch:${status.hostname}`) !== undefined;
  const summary = [
    renewal.renewed
      ? `renewed ${status.hostname}`
      : renewal.failed !== undefined
        ? `renewal of ${status.hostname} FAILED`
        : `${status.hostname}: ${daysText(own)}`,
    ...(mismatched ? ['a listener serves another certificate'] : []),
  ].join('; ');
  return {
    job: 'cert-watch',
    ok: renewal.failed === undefined && !mismatched,
    alerts: [...mismatch, ...renewal.alerts],
    reports: [],
    summary,
    ...(renewal.retryAt === undefined ? {} : { retryAt: renewal.retryAt }),
    details: {
      hostname: status.hostname,
      certificates: status.certificates,
      listeners: status.listeners,
      renewed: renewal.renewed,
      ...(renewal.failed === undefined ? {} : { renewalError: renewal.failed }),
    },
  };
};
