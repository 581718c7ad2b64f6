// Talking to the ACME CA with acme-client: trust, account, renewal information, and issuing a certificate through
// DNS-01 challenges published with our DNS providers.
//
// - Trust: a test CA (ACME_CA_FILE) is added to the system's roots on an https.Agent given to acme-client's own axios
//   instance — never a global switch-off of certificate checks.
// - Retries: acme-client retries `badNonce` answers (up to 5 times, with the fresh nonce the CA sends) and 5xx/429
//   answers with growing delays (honouring Retry-After); status polling backs off between 1 s and 10 s here.
// - Challenges: for each name, the TXT record `_acme-challenge.<name>` (a wildcard `*.d` is validated at `d`) is
//   published and then checked at every authoritative server of its zone before the CA is asked to look. acme-client's
//   own check is switched off (`skipChallengeVerification`): it asks the system resolver, which may not see the zone
//   yet (or, in a test lab, at all). The record is removed once the CA has decided, whatever it decided.
// - Keys: a fresh ECDSA P-256 key for every certificate.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { DatabaseSync } from 'node:sqlite';
import tls from 'node:tls';
import * as acme from 'acme-client';
import type { RecordPublishing } from '../dns/publisher.ts';
import type { TxtRecord } from '../dns/txt.ts';
import { failedError, MailopsError, usageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { loadRenewalInfo, saveRenewalInfo, type StoredRenewalInfo } from '../store/renewal-info.ts';
import { loadOrCreateAccountKey } from './account.ts';
import type { CertificatePair } from './certificate.ts';
import { ariCertificateId, parseRenewalInfo, randomTimeInWindow, type RenewalWindow } from './renewal.ts';

export interface AcmeSettings {
  directoryUrl: string;
  email: string;
  /** Extra CA certificates (PEM file) to trust for the CA's HTTPS. */
  caFile?: string;
  accountKeyFile: string;
  /** The certificate profile to order (ACME_PROFILE), when the CA offers profiles; the CA's default otherwise. */
  profile?: string;
}

/** What goes into the order besides the names. */
export interface OrderOptions {
  /**
   * The ARI identifier of the certificate the new one replaces (RFC 9773 section 5): the CA links the two (and may
   * exempt the renewal from rate limits).
   */
  replaces?: string;
}

/** A new pair, and what the CA's order said about it. */
export interface IssuedCertificate extends CertificatePair {
  /** The `replaces` of the order as the CA accepted it; undefined when none was sent or the CA did not take it. */
  replaced?: string;
  /** The profile of the order as the CA answered it. */
  profile?: string;
  /** mailops's account URL at the CA (CAA's `accounturi`). */
  accountUrl?: string;
}

/** TTL of challenge records: short, they live for seconds. */
const challengeTtl = 60;

/** The agent for HTTPS to the CA: the system's roots, plus ACME_CA_FILE when set. */
function agentFor(caFile: string | undefined): https.Agent | undefined {
  if (caFile === undefined) return undefined;
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw usageError(
      'acme-ca-file-unreadable',
      `ACME_CA_FILE (${caFile}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      'Point ACME_CA_FILE at a PEM file with the CA certificate(s) of your ACME server, or unset it.'
    );
  }
  return new https.Agent({ ca: [...tls.rootCertificates, ca] });
}

function trust(caFile: string | undefined): void {
  const agent = agentFor(caFile);
  if (agent) acme.axios.defaults.httpsAgent = agent;
  else delete acme.axios.defaults.httpsAgent;
}

interface JsonAnswer {
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

/** One GET of a JSON document, without acme-client's retries: renewal information is optional, a failure is not worth a minute. */
function getJson(url: string, agent: https.Agent | undefined, timeoutMs: number): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    // An http:// directory (a CA on the same host, a test) is read over plain HTTP, as acme-client reads it.
    const request = (url.startsWith('http:') ? http : https).get(
      url,
      { ...(agent && url.startsWith('https:') ? { agent } : {}), timeout: timeoutMs, headers: { accept: 'application/json' } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => {
          if ((response.statusCode ?? 0) < 200 || (response.statusCode ?? 0) >= 300) {
            reject(Object.assign(new Error(`${url} answered HTTP ${response.statusCode}`), { status: response.statusCode }));
          } else {
            try {
              resolve({ body: JSON.parse(body) as unknown, headers: response.headers });
            } catch {
              reject(new Error(`${url} did not answer JSON`));
            }
          }
        });
      }
    );
    request.on('timeout', () => request.destroy(new Error(`${url} did not answer within ${timeoutMs / 1000} s`)));
    request.on('error', reject);
  });
}

function acmeFailure(settings: AcmeSettings, names: readonly string[], error: unknown): MailopsError {
  if (error instanceof MailopsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return failedError(
    'acme-failed',
    `The ACME CA (${settings.directoryUrl}) did not issue a certificate for ${names.join(', ')}: ${message}.`,
    {
      hint: "Check ACME_DIRECTORY, ACME_EMAIL and that the CA can reach the DNS of these names; the CA's message above says more.",
      cause: error,
    }
  );
}

async function client(settings: AcmeSettings, logger: Logger): Promise<acme.Client> {
  trust(settings.caFile);
  acme.setLogger((line) => logger.trace({ acme: line }, 'acme-client'));
  const accountKey = await loadOrCreateAccountKey(settings.accountKeyFile);
  return new acme.Client({ directoryUrl: settings.directoryUrl, accountKey, backoffMin: 1000, backoffMax: 10_000 });
}

/**
 * The profile to send with the order: ACME_PROFILE when the directory advertises it in `meta.profiles`; nothing when
 * ACME_PROFILE is unset or the CA offers no profiles (it then issues its default, as before profiles existed); a usage
 * error when the CA offers profiles and not this one.
 */
export async function orderProfile(
  settings: Pick<AcmeSettings, 'directoryUrl' | 'caFile' | 'profile'>,
  logger: Logger
): Promise<string | undefined> {
  if (settings.profile === undefined) return undefined;
  let directory: unknown;
  try {
    directory = (await getJson(settings.directoryUrl, agentFor(settings.caFile), 10_000)).body;
  } catch (error) {
    throw failedError('acme-failed', `The ACME directory (${settings.directoryUrl}) could not be read: ${(error as Error).message}.`, {
      hint: 'Check ACME_DIRECTORY and that the CA can be reached from here.',
      cause: error,
    });
  }
  const profiles = (directory as { meta?: { profiles?: unknown } } | undefined)?.meta?.profiles;
  if (typeof profiles !== 'object' || profiles === null || Object.keys(profiles).length === 0) {
    logger.warn({ profile: settings.profile }, 'ACME_PROFILE is set but the CA offers no profiles; ordering its default certificate');
    return undefined;
  }
  const offered = Object.keys(profiles);
  if (!offered.includes(settings.profile)) {
    throw usageError(
      'acme-profile-unknown',
      `ACME_PROFILE is ${settings.profile}, a profile the ACME CA (${settings.directoryUrl}) does not offer; it offers ${offered
        .map((name) => `${name} (${String((profiles as Record<string, unknown>)[name])})`)
        .join(', ')}. No certificate was ordered.`,
      `Set ACME_PROFILE to one of ${offered.join(', ')}, or unset it for the CA's default.`
    );
  }
  return settings.profile;
}

/** Obtains a certificate for `names` (the first is the subject) through DNS-01; `progress` hears of each challenge. */
export async function issueCertificate(
  settings: AcmeSettings,
  names: readonly string[],
  publishing: RecordPublishing,
  logger: Logger,
  progress?: (text: string) => Promise<void> | void,
  order: OrderOptions = {}
): Promise<IssuedCertificate> {
  const records = new Map<string, TxtRecord>();
  // Before the account and the challenges: an unknown profile is a configuration error, not a failed order.
  const profile = await orderProfile(settings, logger);
  try {
    const acmeClient = await client(settings, logger);
    // acme-client's auto() builds the order from the names alone; its createOrder passes the payload through as it is,
    // so `replaces` and `profile` are added here, on this client only.
    const createOrder = acmeClient.createOrder.bind(acmeClient);
    let replaces = order.replaces;
    let placed: { replaces?: unknown; profile?: unknown } = {};
    acmeClient.createOrder = async (data) => {
      const payload = (withReplaces: boolean) =>
        ({
          ...data,
          ...(withReplaces && replaces !== undefined ? { replaces } : {}),
          ...(profile === undefined ? {} : { profile }),
        }) as typeof data;
      try {
        const created = await createOrder(payload(true));
        placed = created as typeof placed;
        return created;
      } catch (error) {
        // A CA may refuse `replaces` (the certificate was already replaced by an order that failed, or it does not
        // know it): the renewal matters more than the link, so it is ordered again without it.
        if (replaces === undefined || !/replace/i.test(error instanceof Error ? error.message : String(error))) throw error;
        logger.warn({ err: error, replaces }, "the CA refused the order's `replaces`; ordering without it");
        replaces = undefined;
        const created = await createOrder(payload(false));
        placed = created as typeof placed;
        return created;
      }
    };
    const privkey = await acme.crypto.createPrivateEcdsaKey('P-256');
    const [, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: [...names] }, privkey);
    const fullchain = await acmeClient.auto({
      csr,
      email: settings.email,
      termsOfServiceAgreed: true,
      challengePriority: ['dns-01'],
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'dns-01') throw new Error(`the CA offered no dns-01 challenge for ${authz.identifier.value}`);
        const record: TxtRecord = { name: `_acme-challenge.${authz.identifier.value}`, value: keyAuthorization, ttl: challengeTtl };
        records.set(challenge.url, record);
        await progress?.(`Publishing the challenge ${record.name} and waiting until every authoritative name server shows it…`);
        await publishing.publish(record);
        logger.info({ name: record.name }, 'ACME challenge record published and visible at every authoritative server');
        await progress?.(`The CA is checking ${record.name}…`);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        const record = records.get(challenge.url);
        if (!record) return;
        try {
          await publishing.unpublish(record);
        } catch (error) {
          logger.warn({ err: error, name: record.name }, 'could not remove an ACME challenge record; remove it by hand');
        }
      },
    });
    return {
      fullchain,
      privkey: privkey.toString('utf8'),
      ...(typeof placed.replaces === 'string' ? { replaced: placed.replaces } : {}),
      ...(typeof placed.profile === 'string' ? { profile: placed.profile } : {}),
      accountUrl: acmeClient.getAccountUrl(),
    };
  } catch (error) {
    throw acmeFailure(settings, names, error);
  }
}

/** When the state database is given: where the window and the CA's Retry-After are kept between runs. */
export interface RenewalInfoState {
  database: DatabaseSync;
  now: Date;
  /** For tests: the random source of the time chosen in the window. */
  random?: () => number;
}

const minuteMs = 60 * 1000;
/** How long to wait before asking again when the CA sends no Retry-After: as often as cert-watch runs by default. */
const defaultPollMs = 6 * 60 * minuteMs;

/**
 * The CA's Retry-After (seconds, or an HTTP date) in milliseconds, bounded to between a minute and a day as RFC 9773
 * section 4.3 suggests (a CA's mistake must neither make us hammer it nor stop us from asking for a day).
 */
export function retryAfterMs(header: string | undefined, realNow: number = Date.now()): number {
  if (header === undefined || header.trim() === '') return defaultPollMs;
  const seconds = /^\s*\d+\s*$/.test(header) ? Number(header) * 1000 : Date.parse(header) - realNow;
  if (Number.isNaN(seconds)) return defaultPollMs;
  return Math.min(24 * 60 * minuteMs, Math.max(minuteMs, seconds));
}

const storedWindow = (stored: StoredRenewalInfo): RenewalWindow => ({
  start: stored.start,
  end: stored.end,
  ...(stored.explanationUrl === undefined ? {} : { explanationUrl: stored.explanationUrl }),
  renewAt: stored.renewAt,
  certificateId: stored.certificateId,
});

/**
 * The CA's suggested renewal window for this certificate, when the CA offers ARI; undefined otherwise. With `state`,
 * the CA is asked only once its last Retry-After has passed (the window kept from then is used before), the random
 * time inside the window is chosen once per window, and when the CA cannot be reached the last window known is used.
 */
export async function renewalWindow(
  settings: Pick<AcmeSettings, 'directoryUrl' | 'caFile'>,
  leafPem: string,
  logger: Logger,
  state?: RenewalInfoState
): Promise<RenewalWindow | undefined> {
  const id = ariCertificateId(leafPem);
  if (!id) return undefined;
  const stored = state === undefined ? undefined : loadRenewalInfo(state.database, id);
  if (stored !== undefined && state !== undefined && state.now < stored.nextPollAt) return storedWindow(stored);
  const agent = agentFor(settings.caFile);
  try {
    const directory = (await getJson(settings.directoryUrl, agent, 10_000)).body;
    const base = (directory as { renewalInfo?: unknown }).renewalInfo;
    if (typeof base !== 'string') return undefined;
    const answer = await getJson(`${base.replace(/\/$/, '')}/${id}`, agent, 10_000);
    const window = parseRenewalInfo(answer.body);
    if (window === undefined) return stored === undefined ? undefined : storedWindow(stored);
    if (state === undefined) return { ...window, certificateId: id };
    const sameWindow =
      stored !== undefined && stored.start.getTime() === window.start.getTime() && stored.end.getTime() === window.end.getTime();
    const renewAt = sameWindow ? stored.renewAt : randomTimeInWindow(window, state.random);
    const retryAfter: string | undefined = answer.headers['retry-after'];
    const nextPollAt = new Date(state.now.getTime() + retryAfterMs(retryAfter));
    saveRenewalInfo(state.database, { certificateId: id, ...window, renewAt, nextPollAt, fetchedAt: state.now });
    return { ...window, renewAt, certificateId: id };
  } catch (error) {
    // 404: the CA does not know this certificate (another CA issued it) — nothing to warn about.
    const level = (error as { status?: number }).status === 404 ? 'debug' : 'warn';
    logger[level](
      { err: error },
      stored === undefined
        ? "the CA's renewal information (ARI) could not be read; falling back to the certificate's lifetime"
        : "the CA's renewal information (ARI) could not be read; using the window it suggested last"
    );
    return stored === undefined ? undefined : storedWindow(stored);
  }
}
