// What the checks of one run know about the domain and the mail host, each fact fetched once, on first use, and shared
// by every check that needs it (DNS answers are shared by the resolver the same way). Nothing here judges anything.

import { inspectInstalledPair } from '../acme/installed-pair.ts';
import { parseChasquidConf, type ChasquidSettings } from '../chasquid/config-file.ts';
import { chasquidVersion } from '../chasquid/daemon.ts';
import { dkimSetup, type DkimSetup } from '../chasquid/dkim-signing-keys.ts';
import { chasquidHostname } from '../chasquid/hostname.ts';
import { ChasquidPaths } from '../chasquid/paths.ts';
import { dkimLayout } from '../chasquid/version.ts';
import type { DnsResolver, DnsAnswer } from '../dns/caching-resolver.ts';
import { asMailopsError, failedError, type MailopsError } from '../errors.ts';
import type { MailHost } from '../host/mail-host.ts';
import type { OperationContext } from '../ops/context.ts';
import { dnsblQueryName } from './dnsbl.ts';
import { mailHostAddresses, parseInterfaceAddresses, type HostAddress, type InterfaceAddress } from './host-addresses.ts';
import { temperrorResult, type CheckId, type CheckResult } from './result.ts';
import type { InstalledCertificate } from './tls.ts';

export interface CheckEnvironment {
  /** The domain checked (normalised). */
  domain: string;
  dns: DnsResolver;
  host: MailHost;
  chasquidDir: string;
  now: Date;
  dnsblZones: { ip: string[]; domain: string[] };
  /** CHASQUID_RESTART as one command line, for fixes. */
  restartCommand: string;
  /** Extra CA certificates (PEM) trusted when verifying the served chains. */
  extraCa?: string[];
  /** REPORT_ADDRESS: the local part the recommended DMARC and TLS-RPT records send reports to. */
  reportLocal?: string;
  /** The ACME CA mailops orders certificates from, and its account there when known (the `caa` check). */
  acme?: { directoryUrl: string; accountUri?: string };
  /** What the end-to-end probe needs (it creates its sender and alias through ordinary changes); absent: skipped. */
  probe?: { context: OperationContext };
  /**
   * Facts about the mail host itself (chasquid.conf, its hostname and addresses, its certificates), shared by the runs of
   * several domains: a scheduled job that looks at every domain reads them once, not once per domain.
   */
  hostFacts?: Map<string, Promise<unknown>>;
}

/**
 * The hostname each mail host had at its last check in this process. The next check of that host asks DNS for that
 * name's addresses, their PTR and blocklist entries at once, while chasquid.conf is still being read over SSH: when
 * the hostname has not changed (nearly always) those answers are in the cache by the time the checks ask, and the
 * SSH read is off the critical path. The checks themselves only ever use the hostname just read.
 */
const lastHostnames = new WeakMap<MailHost, string>();

export class CheckFacts {
  readonly env: CheckEnvironment;
  readonly paths: ChasquidPaths;
  readonly #facts = new Map<string, Promise<unknown>>();
  readonly #hostFacts: Map<string, Promise<unknown>>;

  constructor(env: CheckEnvironment) {
    this.env = env;
    this.paths = new ChasquidPaths(env.chasquidDir);
    this.#hostFacts = env.hostFacts ?? this.#facts;
  }

  /** Asks DNS, ahead of time, what the address checks will ask if the hostname is the one of the last check. */
  prefetch(): void {
    const hostname = lastHostnames.get(this.env.host);
    if (hostname === undefined) return;
    const { dns, dnsblZones } = this.env;
    for (const type of ['A', 'AAAA'] as const) {
      void dns.lookup(hostname, type).then((answer) => {
        for (const address of answer.status === 'ok' ? answer.records : []) {
          void dns.reverse(address);
          for (const zone of dnsblZones.ip) void dns.lookup(dnsblQueryName(address, zone), 'A');
        }
      });
    }
  }

  /** A fact of this domain (`domain`) or of the mail host (`host`, shared through `hostFacts`), computed once. */
  #once<T>(key: string, compute: () => Promise<T>, scope: 'domain' | 'host' = 'domain'): Promise<T> {
    const facts = scope === 'host' ? this.#hostFacts : this.#facts;
    let fact = facts.get(key) as Promise<T> | undefined;
    if (!fact) {
      fact = compute();
      fact.catch(() => undefined); // each user sees the failure; none is left unhandled
      facts.set(key, fact);
    }
    return fact;
  }

  get domain(): string {
    return this.env.domain;
  }

  lookup: DnsResolver['lookup'] = (name, type) => this.env.dns.lookup(name, type);

  /** chasquid.conf and the hostname chasquid uses (its `hostname`, else the system's). */
  settings(): Promise<{ settings: ChasquidSettings; hostname: string }> {
    return this.#once(
      'settings',
      async () => {
        const text = await this.env.host.files.read(this.paths.configFile);
        if (text === undefined) {
          throw failedError('chasquid-config-missing', `${this.paths.configFile} does not exist on the mail host.`, {
            hint: 'Check CHASQUID_DIR.',
          });
        }
        const settings = parseChasquidConf(text.toString('utf8'));
        const hostname = await chasquidHostname(this.env.host, settings);
        const normalized = hostname.toLowerCase().replace(/\.$/, '');
        lastHostnames.set(this.env.host, normalized);
        return { settings, hostname: normalized };
      },
      'host'
    );
  }

  /**
   * Why the mail host's facts cannot be had in this run — the connection failed, or chasquid.conf could not be read —
   * or undefined when they can. Every check that needs the host fails with this same error; the report says it once.
   */
  async hostFailure(): Promise<MailopsError | undefined> {
    return this.settings().then(
      () => undefined,
      (error: unknown) => asMailopsError(error)
    );
  }

  /** The host's interface addresses; undefined when they cannot be read (no `ip`, or an older mailops-host). */
  interfaces(): Promise<InterfaceAddress[] | undefined> {
    return this.#once(
      'interfaces',
      async () => {
        const result = await this.env.host.verbs.call('addresses');
        return result.code === 0 ? parseInterfaceAddresses(result.stdout.toString('utf8')) : undefined;
      },
      'host'
    );
  }

  /** The hostname's A and AAAA answers. */
  hostnameAddresses(): Promise<{ hostname: string; a: DnsAnswer<string>; aaaa: DnsAnswer<string> }> {
    return this.#once(
      'hostname-addresses',
      async () => {
        const { hostname } = await this.settings();
        const [a, aaaa] = await Promise.all([this.lookup(hostname, 'A'), this.lookup(hostname, 'AAAA')]);
        return { hostname, a, aaaa };
      },
      'host'
    );
  }

  /**
   * The check result of `id` when the host's addresses cannot be known because the hostname's A or AAAA lookup
   * failed (a temperror: every check that judges the host's addresses would otherwise judge an empty list).
   */
  async addressesUnknown(id: CheckId): Promise<CheckResult | undefined> {
    const { hostname, a, aaaa } = await this.hostnameAddresses();
    if (a.status === 'temperror') return temperrorResult(id, a, hostname, 'A');
    if (aaaa.status === 'temperror') return temperrorResult(id, aaaa, hostname, 'AAAA');
    return undefined;
  }

  /** Every address of the host (host-addresses.ts), including DNS addresses found not to be the host's. */
  hostAddresses(): Promise<HostAddress[]> {
    return this.#once(
      'host-addresses',
      async () => {
        const [{ a, aaaa }, interfaces] = await Promise.all([this.hostnameAddresses(), this.interfaces()]);
        const inDns = [...(a.status === 'ok' ? a.records : []), ...(aaaa.status === 'ok' ? aaaa.records : [])];
        return mailHostAddresses(inDns, interfaces);
      },
      'host'
    );
  }

  /** The addresses mail comes from: the host's, without DNS addresses that are certainly elsewhere. */
  async sendingAddresses(): Promise<HostAddress[]> {
    return (await this.hostAddresses()).filter((address) => address.onHost !== false);
  }

  mx() {
    return this.lookup(this.domain, 'MX');
  }

  dkimSetup(): Promise<DkimSetup> {
    return this.#once('dkim', async () => {
      const version = await chasquidVersion(this.env.host);
      return dkimSetup(this.env.host, this.paths, this.domain, dkimLayout(version));
    });
  }

  /**
   * The certificates installed on the host, as their leaf: certs/<hostname>/fullchain.pem, which chasquid serves for
   * its hostname — and only when that one is missing, every certs/<name>/fullchain.pem (each read is a call to the
   * host, and the common case needs one).
   */
  installedCertificates(): Promise<InstalledCertificate[]> {
    return this.#once(
      'certificates',
      async () => {
        const { hostname } = await this.settings();
        const own = await this.#certificate(hostname);
        if (own !== undefined) return [own];
        const entries = (await this.env.host.files.list(this.paths.certsDir)) ?? [];
        const names = entries.filter((entry) => entry.type === 'directory' || entry.type === 'symlink').map((entry) => entry.name);
        const found = await Promise.all(names.map((name) => this.#certificate(name)));
        return found.filter((entry): entry is InstalledCertificate => entry !== undefined);
      },
      'host'
    );
  }

  async #certificate(name: string): Promise<InstalledCertificate | undefined> {
    const pair = await inspectInstalledPair(this.env.host, this.paths, name).catch(() => undefined);
    if (pair?.leaf === undefined) return undefined;
    return { name, certificate: pair.leaf, pairProblems: pair.problems };
  }
}
