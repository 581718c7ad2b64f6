// `check <domain>`: the deliverability report. It changes nothing on the host, except on the first end-to-end probe
// of a domain, which creates the probe sender and alias through ordinary, audited changes (src/probe).
//
// Every check starts at once against shared facts (checks/facts.ts) and one resolver that asks each DNS question
// once (dns/authoritative-servers.ts, through DNS_RESOLVER when set). The result lists the checks in a fixed order, the worst
// status (the Discord embed's colour), and which mailbox providers' requirements the domain meets.

import type { DatabaseSync } from 'node:sqlite';
import { CheckFacts } from '../checks/facts.ts';
import { providerRequirements, type RequirementsSummary } from '../checks/requirements.ts';
import { worstStatus, type CheckResult, type CheckStatus } from '../checks/result.ts';
import { checkRunners, runCheck } from '../checks/run.ts';
import type { Config } from '../config.ts';
import { DnsResolver } from '../dns/caching-resolver.ts';
import { acmeAccount } from '../store/renewal-info.ts';
import { managedDomain } from '../validation/domain.ts';
import type { OperationContext } from './context.ts';

export interface CheckReport {
  domain: string;
  /** No check failed. */
  ok: boolean;
  /** The most severe status: fail > warn > pass > skip. */
  worst: CheckStatus;
  checks: CheckResult[];
  requirements: RequirementsSummary['providers'];
  /** One line: which providers' sender requirements are met. */
  summary: string;
  hostname: string | undefined;
  /**
   * Why the mail host could not be reached (or its chasquid.conf read), said once; absent when it could. The checks
   * that need the host then have `needsHost: true`; those that need only DNS ran as usual.
   */
  hostError?: HostError;
}

export interface HostError {
  code: string;
  message: string;
  hint?: string;
  /** False: no connection to the host (network, SSH, host key); true: connected, but chasquid.conf could not be read. */
  reachable: boolean;
}

/** The SSH failures that mean the host was not reached at all. */
const connectionFailures = new Set([
  'host-unreachable',
  'ssh-failed',
  'ssh-auth-failed',
  'ssh-key-invalid',
  'host-key-changed',
  'host-key-revoked',
  'host-key-unknown',
  'host-channel-refused',
  'host-channel-failed',
]);

/** What went wrong with the host, in a few words, for a title: the details are in `message`. */
export function hostErrorHeadline(error: HostError): string {
  return error.reachable ? 'the configuration of the mail host could not be read' : 'the mail host could not be reached';
}

/**
 * What the checks need: the host, the settings and the clock. A whole operation context (state database, actor,
 * audit) also lets the end-to-end probe run: it creates the probe sender and alias on first use; without it, `e2e` is
 * skipped.
 */
export type CheckContext = Pick<OperationContext, 'host' | 'now'> & {
  config: Pick<Config, 'CHASQUID_DIR' | 'CHASQUID_RESTART' | 'MAIL_DOMAINS' | 'DNS_RESOLVER' | 'DNSBL_IP_ZONES' | 'DNSBL_DOMAIN_ZONES'> &
    Partial<Pick<Config, 'ACME_DIRECTORY'>>;
} & Partial<OperationContext>;

export interface CheckInput {
  domain: string;
  /** Run the end-to-end probe (default: whenever the context is a whole operation context). */
  probe?: boolean;
  /** A resolver of the caller's (tests, benchmarks); by default a new one per run, through DNS_RESOLVER. */
  resolver?: DnsResolver;
  /** Extra CA certificates (PEM) to trust for the served chains, besides the system's (and NODE_EXTRA_CA_CERTS). */
  extraCa?: string[];
  /** Facts about the mail host shared with the checks of other domains (the health job; see CheckEnvironment.hostFacts). */
  hostFacts?: Map<string, Promise<unknown>>;
}

/** The CA for the `caa` check, with mailops's account there when a renewal has recorded it. */
function acmeOf(directoryUrl: string, database: DatabaseSync | undefined): { directoryUrl: string; accountUri?: string } {
  const accountUri = database === undefined ? undefined : acmeAccount(database, directoryUrl);
  return { directoryUrl, ...(accountUri === undefined ? {} : { accountUri }) };
}

function wholeContext(context: CheckContext): OperationContext | undefined {
  const { database, logger, actor, chasquidDir, redactor } = context;
  return database && logger && actor !== undefined && chasquidDir !== undefined && redactor ? (context as OperationContext) : undefined;
}

export async function check(context: CheckContext, input: CheckInput): Promise<CheckReport> {
  const { config, host } = context;
  const domain = managedDomain(input.domain, config.MAIL_DOMAINS ?? []);
  const operation = input.probe === false ? undefined : wholeContext(context);
  const facts = new CheckFacts({
    domain,
    dns: input.resolver ?? new DnsResolver({ server: config.DNS_RESOLVER }),
    host,
    chasquidDir: config.CHASQUID_DIR,
    now: context.now(),
    dnsblZones: { ip: config.DNSBL_IP_ZONES, domain: config.DNSBL_DOMAIN_ZONES },
    restartCommand: (config.CHASQUID_RESTART ?? ['systemctl', 'restart', 'chasquid']).join(' '),
    reportLocal: config.REPORT_ADDRESS,
    ...(input.extraCa ? { extraCa: input.extraCa } : {}),
    ...(operation ? { probe: { context: operation } } : {}),
    ...(input.hostFacts ? { hostFacts: input.hostFacts } : {}),
    ...(config.ACME_DIRECTORY === undefined ? {} : { acme: acmeOf(config.ACME_DIRECTORY, context.database) }),
  });
  facts.prefetch();
  const checks = (await Promise.all(checkRunners.map(({ id, run }) => runCheck(id, run, facts)))).flat();
  const requirements = providerRequirements(checks);
  const hostname = await facts.settings().then(
    (settings) => settings.hostname,
    () => undefined
  );
  const hostFailure = await facts.hostFailure();
  const hostError =
    hostFailure === undefined
      ? undefined
      : {
          code: hostFailure.code,
          message: hostFailure.message,
          ...(hostFailure.hint === undefined ? {} : { hint: hostFailure.hint }),
          reachable: !connectionFailures.has(hostFailure.code),
        };
  return {
    domain,
    ok: checks.every((result) => result.status !== 'fail'),
    worst: worstStatus(checks),
    checks,
    requirements: requirements.providers,
    summary: requirements.line,
    hostname,
    ...(hostError === undefined ? {} : { hostError }),
  };
}
