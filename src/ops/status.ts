// `status`: what the mail host looks like right now — chasquid's version and DKIM layout, whether the daemon runs,
// the domains and certificates in its configuration directory, the queue, and when each certificate expires — and
// how the scheduled jobs last ended (from the state database). Read-only: no lock, no audit entry.

import path from 'node:path';
import { inspectInstalledPair } from '../acme/installed-pair.ts';
import { parseChasquidConf } from '../chasquid/config-file.ts';
import { chasquidVersion, daemonState, type DaemonState } from '../chasquid/daemon.ts';
import { chasquidHostname } from '../chasquid/hostname.ts';
import { ChasquidPaths } from '../chasquid/paths.ts';
import { describeDkimLayout, dkimLayout, type DkimLayout } from '../chasquid/version.ts';
import type { MailHost } from '../host/mail-host.ts';
import { lastJobRuns, type JobRun } from '../store/job-runs.ts';
import type { OperationContext } from './context.ts';

export interface CertificateSummary {
  name: string;
  notAfter: string | undefined;
  daysLeft: number | undefined;
  /** What is wrong with the pair in certs/<name>/ (see cert-status); empty when the key matches the certificate. */
  pairProblems: string[];
}

export interface StatusResult {
  host: string;
  chasquidDir: string;
  chasquid: { version: string; dkimLayout: DkimLayout; dkimLayoutDescription: string };
  service: DaemonState;
  hostname: string | undefined;
  domains: string[];
  certificates: CertificateSummary[];
  queue: { messages: number } | undefined;
  /** The last run of each scheduled job that has run (from STATE_DB). */
  jobs: Array<Pick<JobRun, 'job' | 'outcome' | 'startedAt' | 'finishedAt' | 'summary' | 'alerts'>>;
}

/** The host and its configuration directory, the clock, and the state database for the last job results. */
export type StatusContext = Pick<OperationContext, 'host' | 'chasquidDir' | 'now'> & Partial<Pick<OperationContext, 'database'>>;

export interface StatusInput {
  /** Include the last job results (left out by the health job, which is one of them). Default true. */
  jobs?: boolean;
}

const dayMs = 24 * 60 * 60 * 1000;

export async function status(context: StatusContext, input: StatusInput = {}): Promise<StatusResult> {
  const { host, chasquidDir } = context;
  const now = context.now();
  const database = input.jobs === false ? undefined : context.database;
  const paths = new ChasquidPaths(chasquidDir);
  const [version, service, configText, domainEntries, certEntries] = await Promise.all([
    chasquidVersion(host),
    daemonState(host, chasquidDir),
    host.files.read(paths.configFile),
    host.files.list(paths.domainsDir),
    host.files.list(paths.certsDir),
  ]);
  const settings = parseChasquidConf(configText?.toString('utf8') ?? '');
  const certificateNames = (certEntries ?? [])
    .filter((entry) => entry.type === 'directory' || entry.type === 'symlink')
    .map((entry) => entry.name);

  const [certificates, queueEntries, hostname] = await Promise.all([
    Promise.all(certificateNames.map((name) => certificateSummary(host, paths, name, now)))
      // A directory without fullchain.pem or privkey.pem is no certificate (chasquid 1.11 keeps DKIM keys in certs/<domain>/).
      .then((summaries) => summaries.filter((summary): summary is CertificateSummary => summary !== undefined)),
    host.files.list(path.posix.join(settings.dataDir, 'queue')).catch(() => undefined),
    chasquidHostname(host, settings),
  ]);
  const layout = dkimLayout(version);
  return {
    host: host.label,
    chasquidDir,
    chasquid: { version: version.full, dkimLayout: layout, dkimLayoutDescription: describeDkimLayout(layout) },
    service,
    hostname,
    domains: (domainEntries ?? []).filter((entry) => entry.type === 'directory').map((entry) => entry.name),
    certificates,
    queue: queueEntries === undefined ? undefined : { messages: queueEntries.filter((entry) => entry.name.startsWith('m:')).length },
    jobs:
      database === undefined
        ? []
        : lastJobRuns(database).map(({ job, outcome, startedAt, finishedAt, summary, alerts }) => ({
            job,
            outcome,
            startedAt,
            finishedAt,
            summary,
            alerts,
          })),
  };
}

async function certificateSummary(host: MailHost, paths: ChasquidPaths, name: string, now: Date): Promise<CertificateSummary | undefined> {
  const pair = await inspectInstalledPair(host, paths, name).catch(() => undefined);
  if (pair === undefined || (!pair.files.fullchain && !pair.files.privkey)) return undefined;
  const notAfter = pair.facts?.notAfter;
  return {
    name,
    notAfter: notAfter?.toISOString(),
    daysLeft: notAfter === undefined ? undefined : Math.round(((notAfter.getTime() - now.getTime()) / dayMs) * 10) / 10,
    pairProblems: pair.problems,
  };
}
