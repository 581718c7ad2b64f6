// Publishing TXT records, the way DNS_PROVIDER says (rfc2136, cloudflare, manual), and checking that a change is
// visible at every authoritative server before anything relies on it. Shared by DKIM rotation and certificates.

import type { Config } from '../config.ts';
import { usageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { knownServerPorts, resolverFor } from './authoritative-servers.ts';
import { CloudflarePublisher } from './cloudflare.ts';
import { ManualPublisher, type ManualConfirm } from './manual.ts';
import { waitForAuthoritative, type PropagationResult } from './propagation.ts';
import { Rfc2136Publisher } from './rfc2136.ts';
import type { TxtRecord } from './txt.ts';

/**
 * A provider's change either happened or did not, and callers are told which: when its answer is lost (a timeout, a
 * dropped connection), rfc2136 and cloudflare ask the primary or the API whether the change is there and succeed only
 * if it is; otherwise they fail with `dns-update-not-applied` (asked afterwards: nothing changed) or
 * `dns-update-unverified` (it could not be asked: the record may or may not be there; the hint names it).
 */
export interface DnsPublisher {
  readonly kind: 'rfc2136' | 'cloudflare' | 'manual';
  /** Adds this value at the name; other values there stay. Adding a value that is there already changes nothing. */
  add(record: TxtRecord): Promise<void>;
  /** Removes this value at the name; other values there stay. Removing a value that is not there changes nothing. */
  remove(record: TxtRecord): Promise<void>;
  /** Where the record goes, for messages. */
  describe(record: TxtRecord): string;
}

export interface PublishingOptions {
  /** How the front end asks a person to publish by hand (DNS_PROVIDER=manual). */
  manualConfirm?: ManualConfirm;
  /** How long to wait for every authoritative server (default: 2 minutes; 30 minutes for manual publishing). */
  propagationTimeoutMs?: number;
}

export function createPublisher(config: Config, logger: Logger, now: () => Date, options: PublishingOptions): DnsPublisher {
  switch (config.DNS_PROVIDER) {
    case 'rfc2136': {
      if (!config.RFC2136_SERVER || !config.RFC2136_TSIG) {
        const missing = [!config.RFC2136_SERVER && 'RFC2136_SERVER', !config.RFC2136_TSIG && 'RFC2136_TSIG'].filter(Boolean).join(' and ');
        throw usageError(
          'missing-configuration',
          `DNS_PROVIDER=rfc2136 needs ${missing}.`,
          'Set RFC2136_SERVER=ip:port of the primary and RFC2136_TSIG=hmac-sha256:keyname:base64secret (see .env.example).'
        );
      }
      return new Rfc2136Publisher({ server: config.RFC2136_SERVER, key: config.RFC2136_TSIG, now, logger });
    }
    case 'cloudflare':
      if (!config.CLOUDFLARE_API_TOKEN) {
        throw usageError(
          'missing-configuration',
          'DNS_PROVIDER=cloudflare needs CLOUDFLARE_API_TOKEN.',
          'Create an API token with Zone.DNS: Edit for your zone and set CLOUDFLARE_API_TOKEN.'
        );
      }
      return new CloudflarePublisher({ token: config.CLOUDFLARE_API_TOKEN, logger });
    case 'manual':
      if (!options.manualConfirm) {
        throw usageError(
          'manual-dns-unattended',
          'DNS_PROVIDER=manual needs a person to publish records, and nobody can be asked here.',
          'Run the command from a terminal or Discord, or configure DNS_PROVIDER=rfc2136 or cloudflare for unattended runs.'
        );
      }
      return new ManualPublisher(options.manualConfirm);
  }
}

/** Asks every authoritative server of a record's zone whether it shows the record. */
export class AuthoritativeCheck {
  readonly #config: Pick<Config, 'DNS_RESOLVER' | 'RFC2136_SERVER'>;
  readonly #logger: Logger;

  constructor(config: Pick<Config, 'DNS_RESOLVER' | 'RFC2136_SERVER'>, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
  }

  /** Waits until every authoritative server has (`present`) or no longer has the value. */
  waitUntil(record: TxtRecord, present: boolean, timeoutMs: number): Promise<PropagationResult> {
    return waitForAuthoritative(
      { name: record.name, value: record.value, present },
      {
        resolver: resolverFor(this.#config.DNS_RESOLVER),
        knownPorts: knownServerPorts([this.#config.DNS_RESOLVER, this.#config.RFC2136_SERVER]),
        timeoutMs,
        logger: this.#logger,
      }
    );
  }

  /** Whether every authoritative server shows the value now (asked once). */
  async visible(record: TxtRecord): Promise<boolean> {
    try {
      await this.waitUntil(record, true, 0);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'dns-not-propagated') return false;
      throw error;
    }
  }
}

/** Publishes records and waits for the authoritative servers; the one object operations use for DNS changes. */
export class RecordPublishing {
  readonly publisher: DnsPublisher;
  readonly check: AuthoritativeCheck;
  readonly #timeoutMs: number;

  constructor(publisher: DnsPublisher, config: Pick<Config, 'DNS_RESOLVER' | 'RFC2136_SERVER'>, logger: Logger, timeoutMs?: number) {
    this.publisher = publisher;
    this.check = new AuthoritativeCheck(config, logger);
    this.#timeoutMs = timeoutMs ?? (publisher.kind === 'manual' ? 30 * 60_000 : 2 * 60_000);
  }

  /** Adds the record and returns once every authoritative server of its zone answers with it. */
  async publish(record: TxtRecord): Promise<PropagationResult> {
    await this.publisher.add(record);
    return this.check.waitUntil(record, true, this.#timeoutMs);
  }

  /** Removes the record (without waiting: nothing depends on a record being gone). */
  async unpublish(record: TxtRecord): Promise<void> {
    await this.publisher.remove(record);
  }

  /** Waits until every authoritative server has (`present`) or no longer has the value. */
  waitUntil(record: TxtRecord, present: boolean, timeoutMs = this.#timeoutMs): Promise<PropagationResult> {
    return this.check.waitUntil(record, present, timeoutMs);
  }
}
