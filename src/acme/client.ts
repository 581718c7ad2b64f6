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
import https from 'node:https';
import tls from 'node:tls';
import * as acme from 'acme-client';
import type { RecordPublishing } from '../dns/publisher.ts';
import type { TxtRecord } from '../dns/txt.ts';
import { failedError, MailopsError, usageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { loadOrCreateAccountKey } from './account.ts';
import type { CertificatePair } from './certificate.ts';
import { ariCertificateId, parseRenewalInfo, type RenewalWindow } from './renewal.ts';

export interface AcmeSettings {
  directoryUrl: string;
  email: string;
  /** Extra CA certificates (PEM file) to trust for the CA's HTTPS. */
  caFile?: string;
  accountKeyFile: string;
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

/** One GET of a JSON document, without acme-client's retries: renewal information is optional, a failure is not worth a minute. */
function getJson(url: string, agent: https.Agent | undefined, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      url,
      { ...(agent ? { agent } : {}), timeout: timeoutMs, headers: { accept: 'application/json' } },
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
              resolve(JSON.parse(body));
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

/** Obtains a certificate for `names` (the first is the subject) through DNS-01; `progress` hears of each challenge. */
export async function issueCertificate(
  settings: AcmeSettings,
  names: readonly string[],
  publishing: RecordPublishing,
  logger: Logger,
  progress?: (text: string) => Promise<void> | void
): Promise<CertificatePair> {
  const records = new Map<string, TxtRecord>();
  try {
    const acmeClient = await client(settings, logger);
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
    return { fullchain, privkey: privkey.toString('utf8') };
  } catch (error) {
    throw acmeFailure(settings, names, error);
  }
}

/** The CA's suggested renewal window for this certificate, when the CA offers ARI; undefined otherwise. */
export async function renewalWindow(
  settings: Pick<AcmeSettings, 'directoryUrl' | 'caFile'>,
  leafPem: string,
  logger: Logger
): Promise<RenewalWindow | undefined> {
  const id = ariCertificateId(leafPem);
  if (!id) return undefined;
  const agent = agentFor(settings.caFile);
  try {
    const directory = await getJson(settings.directoryUrl, agent, 10_000);
    const base = (directory as { renewalInfo?: unknown }).renewalInfo;
    if (typeof base !== 'string') return undefined;
    return parseRenewalInfo(await getJson(`${base.replace(/\/$/, '')}/${id}`, agent, 10_000));
  } catch (error) {
    // 404: the CA does not know this certificate (another CA issued it) — nothing to warn about.
    const level = (error as { status?: number }).status === 404 ? 'debug' : 'warn';
    logger[level]({ err: error }, "the CA's renewal information (ARI) could not be read; falling back to the certificate's lifetime");
    return undefined;
  }
}
