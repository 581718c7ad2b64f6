// Publishing through Cloudflare's API (v4), with an API token that may edit DNS of the zone (CLOUDFLARE_API_TOKEN).
//
// Endpoints used, as documented by Cloudflare:
//   GET    /zones?name=<zone>                                  find the zone id (we try the record's parents in turn)
//   GET    /zones/<zone id>/dns_records?type=TXT&name=<name>   the TXT records at a name (exact match)
//   POST   /zones/<zone id>/dns_records                        create {type, name, content, ttl}
//   PATCH  /zones/<zone id>/dns_records/<id>                   update the TTL of a record that is already there
//   DELETE /zones/<zone id>/dns_records/<id>                   delete one record
// Every request carries `Authorization: Bearer <token>`; bodies are JSON. Every answer is an envelope
// `{success, errors: [{code, message}], result}`. TXT content is sent as quoted character-strings of at most 255 bytes
// (`"…" "…"`), which is what the API asks for and how it returns long values; comparisons parse that form back.
// A create or delete whose answer never came (a timeout, a dropped connection) may have been carried out: the zone's
// records are listed again until the API answers, and the outcome is told as it is (see rfc2136.ts: applied, not
// applied — `dns-update-not-applied` — or unknown — `dns-update-unverified`).

import { failedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { settleLostAnswer } from './lost-answer.ts';
import type { DnsPublisher } from './publisher.ts';
import { joinTxt, presentTxtValue, type TxtRecord } from './txt.ts';

export const cloudflareApi = 'https://api.cloudflare.com/client/v4';

export interface CloudflareSettings {
  token: string;
  logger: Logger;
  /** The API base URL (tests point it at a local fake). */
  baseUrl?: string;
  timeoutMs?: number;
  /** How long to keep asking whether a create or delete without an answer was carried out (default 30 s). */
  verifyTimeoutMs?: number;
}

interface Envelope<T> {
  success: boolean;
  errors?: Array<{ code?: number; message?: string }>;
  result: T;
}

interface CloudflareRecord {
  id: string;
  type: string;
  name: string;
  content: string;
  ttl: number;
}

/** The value of TXT content as Cloudflare shows it: quoted character-strings, or (older records) the bare text. */
export function parseTxtContent(content: string): string {
  const trimmed = content.trim();
  if (!trimmed.startsWith('"')) return content;
  const strings: string[] = [];
  let index = 0;
  while (index < trimmed.length) {
    while (trimmed[index] === ' ') index += 1;
    if (index >= trimmed.length) break;
    if (trimmed[index] !== '"') return content;
    index += 1;
    let text = '';
    while (index < trimmed.length && trimmed[index] !== '"') {
      const char = trimmed[index] as string;
      if (char === '\\') {
        const digits = /^[0-9]{3}/.exec(trimmed.slice(index + 1));
        if (digits) {
          text += String.fromCharCode(Number(digits[0]));
          index += 4;
          continue;
        }
        text += trimmed[index + 1] ?? '';
        index += 2;
        continue;
      }
      text += char;
      index += 1;
    }
    index += 1;
    strings.push(text);
  }
  return joinTxt(strings);
}

export class CloudflarePublisher implements DnsPublisher {
  readonly kind = 'cloudflare';
  readonly #settings: CloudflareSettings;
  readonly #zones = new Map<string, Promise<{ id: string; name: string }>>();

  constructor(settings: CloudflareSettings) {
    this.#settings = settings;
  }

  describe(record: TxtRecord): string {
    return `${record.name} TXT via the Cloudflare API`;
  }

  async add(record: TxtRecord): Promise<void> {
    const zone = await this.#zoneOf(record.name);
    const existing = (await this.#records(zone.id, record.name)).find((item) => parseTxtContent(item.content) === record.value);
    if (existing && existing.ttl === record.ttl) return;
    if (existing) {
      await this.#call('PATCH', `/zones/${zone.id}/dns_records/${existing.id}`, { ttl: record.ttl });
      return;
    }
    await this.#settled(zone, record, true, () =>
      this.#call('POST', `/zones/${zone.id}/dns_records`, {
        type: 'TXT',
        name: record.name,
        content: presentTxtValue(record.value),
        ttl: record.ttl,
      })
    );
    this.#settings.logger.debug({ zone: zone.name, name: record.name }, 'Cloudflare TXT record created');
  }

  async remove(record: TxtRecord): Promise<void> {
    const zone = await this.#zoneOf(record.name);
    const matching = (await this.#records(zone.id, record.name)).filter((item) => parseTxtContent(item.content) === record.value);
    for (const item of matching)
      await this.#settled(zone, record, false, () => this.#call('DELETE', `/zones/${zone.id}/dns_records/${item.id}`), item.id);
  }

  /**
   * Runs a create (`present`) or delete; when its answer was lost, asks the API what the zone holds now and succeeds
   * only if the change is there.
   */
  async #settled(
    zone: { id: string; name: string },
    record: TxtRecord,
    present: boolean,
    change: () => Promise<unknown>,
    recordId?: string
  ): Promise<void> {
    try {
      await change();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'cloudflare-unreachable') throw error;
      const what = `${present ? 'adding' : 'removing'} a TXT record at ${record.name}`;
      await settleLostAnswer({
        isThere: async () => {
          const records = await this.#records(zone.id, record.name);
          return recordId === undefined
            ? records.some((item) => parseTxtContent(item.content) === record.value)
            : records.some((item) => item.id === recordId);
        },
        wanted: present,
        timeoutMs: this.#settings.verifyTimeoutMs ?? 30_000,
        firstPauseMs: 500,
        maxPauseMs: 4000,
        applied: () =>
          this.#settings.logger.warn(
            { zone: zone.name, name: record.name },
            `the Cloudflare API's answer was lost, but the zone shows the change: the record is ${present ? 'published' : 'removed'}`
          ),
        notApplied: () =>
          failedError(
            'dns-update-not-applied',
            `The Cloudflare API did not answer ${what} (${(error as Error).message}) Asked afterwards, the zone ${present ? 'does not have the record: it was not published' : 'still has the record: it was not removed'}.`,
            { hint: 'Nothing changed in DNS. Run the command again.' }
          ),
        unverified: (lastError) =>
          failedError(
            'dns-update-unverified',
            `The Cloudflare API did not answer ${what} (${(error as Error).message}) Asking afterwards failed too (${lastError}), so the record may or may not be ${present ? 'published' : 'removed'}.`,
            {
              hint: `Look at the TXT records of ${record.name} in the Cloudflare dashboard. Running the command again is safe: adding a value that is there, or removing one that is gone, changes nothing.`,
            }
          ),
      });
    }
  }

  #zoneOf(name: string): Promise<{ id: string; name: string }> {
    let zone = this.#zones.get(name);
    if (!zone) {
      zone = this.#findZone(name);
      this.#zones.set(name, zone);
      zone.catch(() => this.#zones.delete(name));
    }
    return zone;
  }

  async #findZone(name: string): Promise<{ id: string; name: string }> {
    const labels = name.split('.');
    for (let start = 0; start < labels.length - 1; start += 1) {
      const candidate = labels.slice(start).join('.');
      const zones = await this.#call<Array<{ id: string; name: string }>>(
        'GET',
        `/zones?${new URLSearchParams({ name: candidate }).toString()}`
      );
      const zone = zones.find((item) => item.name.toLowerCase() === candidate);
      if (zone) return { id: zone.id, name: zone.name };
    }
    throw failedError('cloudflare-zone-not-found', `No Cloudflare zone visible to CLOUDFLARE_API_TOKEN holds ${name}.`, {
      hint: 'Check that the domain is on this Cloudflare account and that the token may read and edit its DNS (Zone.DNS: Edit).',
    });
  }

  async #records(zoneId: string, name: string): Promise<CloudflareRecord[]> {
    return this.#call<CloudflareRecord[]>(
      'GET',
      `/zones/${zoneId}/dns_records?${new URLSearchParams({ type: 'TXT', name, per_page: '100' }).toString()}`
    );
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.#settings.baseUrl ?? cloudflareApi}${path}`;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#settings.token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#settings.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw failedError(
        'cloudflare-unreachable',
        `The Cloudflare API could not be reached (${method} ${path.split('?')[0]}): ${(error as Error).message}.`,
        { hint: 'Check the network connection of this machine; then try again.', cause: error }
      );
    }
    let envelope: Envelope<T> | undefined;
    try {
      envelope = (await response.json()) as Envelope<T>;
    } catch {
      envelope = undefined;
    }
    if (!response.ok || !envelope?.success) {
      const detail =
        envelope?.errors?.map((error) => `${error.code ?? ''} ${error.message ?? ''}`.trim()).join('; ') || `HTTP ${response.status}`;
      const auth = response.status === 401 || response.status === 403;
      throw failedError(
        auth ? 'cloudflare-unauthorized' : 'cloudflare-request-failed',
        `The Cloudflare API refused ${method} ${path.split('?')[0]}: ${detail}.`,
        {
          hint: auth
            ? 'CLOUDFLARE_API_TOKEN is not valid or lacks the Zone.DNS: Edit permission for this zone: create a token with it.'
            : 'Look at the message above; then try again.',
        }
      );
    }
    return envelope.result;
  }
}
