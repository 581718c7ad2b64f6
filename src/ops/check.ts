// `check <domain>`: the deliverability report. It changes nothing on the host, except on the first end-to-end probe
// of a domain, which creates the probe sender and alias through ordinary, audited changes (src/probe).
//
// Every check starts at once against shared facts (checks/facts.ts) and one resolver that asks each DNS question
// once (dns/resolver.ts, through DNS_RESOLVER when set). The result lists the checks in a fixed order, the worst
// status (the Discord embed's colour), and which mailbox providers' requirements the domain meets.

import type { Config } from '../config.ts';
import { checkRunners, runCheck } from '../checks/run.ts';
import { CheckFacts } from '../checks/facts.ts';
import { providerRequirements, type RequirementsSummary } from '../checks/requirements.ts';
import { worstStatus, type CheckResult, type CheckStatus } from '../checks/result.ts';
import { DnsResolver } from '../dns/caching-resolver.ts';
import type { MailHost } from '../host/mail-host.ts';
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
const connectionFailures = new Set(['host-unreachable', 'ssh-failed', 'ssh-auth-failed', 'ssh-key-invalid', 'host-key-changed', 'host-key-revoked', 'host-key-unknown', 'host-channel-refused', 'host-channel-failed']);

/** What went wrong with the host, in a few words, for a title: the details are in `message`. */
export function hostErrorHeadline(error: HostError): string {
  return error.reachable ? 'the configuration of the mail host could not be read' : 'the mail host could not be reached';
}

export interface CheckOptions {
  host: MailHost;
  config: Pick<Config, 'CHASQUID_DIR' | 'CHASQUID_RESTART' | 'MAIL_DOMAINS' | 'DNS_RESOLVER' | 'DNSBL_IP_ZONES' | 'DNSBL_DOMAIN_ZONES'>;
  domain: string;
  now: Date;
  /** A resolver of the caller's (tests, benchmarks); by default a new one per run, through DNS_RESOLVER. */
  resolver?: DnsResolver;
  /** Extra CA certificates (PEM) to trust for the served chains, besides the system's (and NODE_EXTRA_CA_CERTS). */
  extraCa?: string[];
  /**
   * The context of operations that change the host (state database, actor, audit), for the end-to-end probe: it
   * creates the probe sender and alias on first use. Without it, `e2e` is skipped.
   */
  operation?: OperationContext;
  /** Facts about the mail host shared with the checks of other domains (the health job; see CheckEnvironment.hostFacts). */
  hostFacts?: Map<string, Promise<unknown>>;
}

export async function check(options: CheckOptions): Promise<CheckReport> {
  const domain = managedDomain(options.domain, options.config.MAIL_DOMAINS ?? []);
  const facts = new CheckFacts({
    domain,
    dns: options.resolver ?? new DnsResolver({ server: options.config.DNS_RESOLVER }),
    host: options.host,
    chasquidDir: options.config.CHASQUID_DIR,
    now: options.now,
    dnsblZones: { ip: options.config.DNSBL_IP_ZONES, domain: options.config.DNSBL_DOMAIN_ZONES },
    restartCommand: (options.config.CHASQUID_RESTART ?? ['systemctl', 'restart', 'chasquid']).join(' '),
    ...(options.extraCa ? { extraCa: options.extraCa } : {}),
    ...(options.operation ? { probe: { context: options.operation } } : {}),
    ...(options.hostFacts ? { hostFacts: options.hostFacts } : {}),
  });
  facts.prefetch();
  const checks = (await Promise.all(checkRunners.map(({ id, run }) => runCheck(id, run, facts)))).flat();
  const requirements = providerRequirements(checks);
  const hostname = await facts.settings().then((settings) => settings.hostname, () => undefined);
  const hostFailure = await facts.hostFailure();
  const hostError = hostFailure === undefined ? undefined
    : { code: hostFailure.code, message: hostFailure.message, ...(hostFailure.hint === undefined ? {} : { hint: hostFailure.hint }), reachable: !connectionFailures.has(hostFailure.code) };
  return {
    domain, ok: checks.every((result) => result.status !== 'fail'), worst: worstStatus(checks), checks, requirements: requirements.providers,
    summary: requirements.line, hostname, ...(hostError === undefined ? {} : { hostError }),
  };
}
