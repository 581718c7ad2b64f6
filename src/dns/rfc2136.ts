// Publishing through RFC 2136 dynamic UPDATE, signed with TSIG (RFC 8945), to the primary name server
// (RFC2136_SERVER) — what Knot, BIND, PowerDNS and most self-hosted DNS accept.
//
// Every UPDATE names its zone, found by asking the primary for the SOA of the record's name and its parents.
// The answer must carry a TSIG record made with our key over our request; an unsigned or wrongly signed answer is
// not trusted, whatever its status says. Refusals are explained by what they mean for the operator: a wrong secret
// (BADSIG), an unknown key name or algorithm (BADKEY), a clock off by minutes (BADTIME), a key without the right
// to update the zone (REFUSED), a server that is not the primary for it (NOTAUTH).
//
// An UPDATE whose answer never came (no answer in time, or the connection closed) may still have been applied: the
// primary is then asked for the record, over TCP, until it answers or the verification time is up, and the outcome is
// told as it is — applied (the call succeeds, with a warning in the log), not applied (`dns-update-not-applied`), or
// unknown (`dns-update-unverified`, naming the record to look at). A connection that could not be made at all is a
// plain failure: nothing was sent.

import { randomInt } from 'node:crypto';
import packet from 'dns-packet';
import type { HostPort, TsigKey } from '../config.ts';
import { failedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { findZone, resolverFor } from './authoritative-servers.ts';
import { exchangeTcp, formatServer } from './exchange.ts';
import { settleLostAnswer } from './lost-answer.ts';
import type { DnsPublisher } from './publisher.ts';
import { signMessage, verifyResponse } from './tsig.ts';
import { joinTxt, type TxtRecord } from './txt.ts';
import { buildUpdate, type UpdateChange } from './update-message.ts';

export interface Rfc2136Settings {
  server: HostPort;
  key: TsigKey;
  now: () => Date;
  logger: Logger;
  timeoutMs?: number;
  /** How long to keep asking the primary whether an UPDATE without an answer was applied (default 20 s). */
  verifyTimeoutMs?: number;
}

/** Errors of exchangeTcp after which the UPDATE may have reached the server and been applied. */
const answerLost = new Set(['dns-server-timeout', 'dns-server-closed']);

const rcodeNames: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
};

const tsigHints: Record<string, string> = {
  BADSIG:
    "The secret in RFC2136_TSIG does not match the key configured on the DNS server: copy the server's secret (base64) into RFC2136_TSIG.",
  BADKEY:
    "The DNS server does not know this key name with this algorithm: check the name and algorithm in RFC2136_TSIG against the server's key.",
  BADTIME: 'The clocks of this machine and the DNS server differ by more than 5 minutes: fix the time (NTP) on both.',
  BADTRUNC: 'The server refused a truncated MAC: this is a bug in mailops.',
};

export class Rfc2136Publisher implements DnsPublisher {
  readonly kind = 'rfc2136';
  readonly #settings: Rfc2136Settings;

  constructor(settings: Rfc2136Settings) {
    this.#settings = settings;
  }

  add(record: TxtRecord): Promise<void> {
    return this.#update([{ action: 'add', record }]);
  }

  remove(record: TxtRecord): Promise<void> {
    return this.#update([{ action: 'delete', record }]);
  }

  /**
   * Applies several changes of any of our record types (setup: MX, A, AAAA, TXT), one UPDATE per zone, so that a
   * record replaced (its old value deleted, the new one added) is never seen half done. The zone of each change is
   * that of its name.
   */
  async apply(changes: readonly UpdateChange[]): Promise<void> {
    const byZone = new Map<string, UpdateChange[]>();
    for (const change of changes) {
      const zone = await findZone(change.record.name, resolverFor(this.#settings.server));
      byZone.set(zone, [...(byZone.get(zone) ?? []), change]);
    }
    for (const zoneChanges of byZone.values()) await this.#update(zoneChanges);
  }

  describe(record: TxtRecord): string {
    return `${record.name} TXT via RFC 2136 at ${formatServer(this.#settings.server)}`;
  }

  async #update(changes: readonly UpdateChange[]): Promise<void> {
    const { server, key, now, logger } = this.#settings;
    const where = formatServer(server);
    const change = changes[0] as UpdateChange;
    const zone = await findZone(change.record.name, resolverFor(server));
    const id = randomInt(0, 65536);
    const signed = signMessage(buildUpdate(zone, changes, id), key, { now: now() });
    let response: Buffer;
    try {
      response = await exchangeTcp(server, signed.message, this.#settings.timeoutMs ?? 10_000);
    } catch (error) {
      if (!answerLost.has((error as { code?: string }).code ?? '')) throw error;
      if (changes.length === 1 && (change.record.type ?? 'TXT') === 'TXT') return this.#settleLostAnswer(change, zone, error as Error);
      throw failedError(
        'dns-update-unverified',
        `The DNS server ${where} did not answer an UPDATE of ${changes.length} records in ${zone}: ${(error as Error).message} It may or may not have applied it.`,
        { hint: 'Run the command again: it compares what DNS answers with what it wants, and changes only what is still missing.' }
      );
    }
    if (response.length < 12 || response.readUInt16BE(0) !== id) {
      throw failedError('dns-update-garbled', `The DNS server ${where} sent an answer that does not belong to our UPDATE.`, {
        hint: 'Check that RFC2136_SERVER is a DNS server; then try again.',
      });
    }
    const rcode = response.readUInt16BE(2) & 0xf;
    const rcodeName = rcodeNames[rcode] ?? `RCODE ${rcode}`;
    const verdict = verifyResponse(response, key, signed.mac, { now: now() });
    const what =
      changes.length === 1
        ? `${change.action === 'add' ? 'adding' : 'removing'} a ${change.record.type ?? 'TXT'} record at ${change.record.name}`
        : `changing ${changes.length} records (${changes.map((each) => `${each.record.name} ${each.record.type ?? 'TXT'}`).join(', ')})`;
    if (verdict.status === 'server-error') {
      throw failedError(
        'dns-update-tsig-refused',
        `The DNS server ${where} refused ${what} (zone ${zone}): it did not accept the TSIG signature made with key "${key.name}" (${key.algorithm}) — ${verdict.errorName}.`,
        { hint: tsigHints[verdict.errorName] ?? 'Check RFC2136_TSIG against the key configured on the DNS server.' }
      );
    }
    if (verdict.status === 'invalid' || (verdict.status === 'unsigned' && rcode === 0)) {
      const reason = verdict.status === 'invalid' ? verdict.reason : 'it is not signed';
      throw failedError('dns-update-answer-untrusted', `The answer of ${where} to ${what} cannot be trusted: ${reason}.`, {
        hint: 'Something between mailops and the DNS server may be interfering, or RFC2136_SERVER is not the server holding the key. Check the record by hand before retrying.',
      });
    }
    if (rcode !== 0) {
      const hints: Record<string, string> = {
        REFUSED: `The key "${key.name}" may not update ${zone} on that server: allow it (Knot: an acl with action update; BIND: update-policy).`,
        NOTAUTH: `${where} is not the primary server for ${zone}: point RFC2136_SERVER at the primary.`,
        NOTZONE: `The record is outside the zone ${zone}: this is a bug in mailops.`,
        SERVFAIL: 'The DNS server failed to apply the change: look at its log.',
      };
      throw failedError('dns-update-refused', `The DNS server ${where} refused ${what} (zone ${zone}): ${rcodeName}.`, {
        hint: hints[rcodeName] ?? "Look at the DNS server's log for the reason.",
      });
    }
    logger.debug({ zone, names: changes.map((each) => each.record.name), server: where }, 'DNS UPDATE applied');
  }

  /** What the primary has at the record's name now: its TXT values. */
  async #valuesAtPrimary(name: string, timeoutMs: number): Promise<string[]> {
    const query = packet.encode({ type: 'query', id: randomInt(0, 65536), flags: 0, questions: [{ type: 'TXT', class: 'IN', name }] });
    const answer = packet.decode(await exchangeTcp(this.#settings.server, query, timeoutMs));
    const rcode = (answer.flags ?? 0) & 0xf;
    if (rcode !== 0 && rcode !== 3) throw new Error(`it answered ${rcodeNames[rcode] ?? `RCODE ${rcode}`}`);
    return (answer.answers ?? []).flatMap((record) =>
      record.type === 'TXT' && record.name.toLowerCase() === name.toLowerCase()
        ? [
            joinTxt(
              (Array.isArray(record.data) ? record.data : [record.data]).map((part) =>
                Buffer.isBuffer(part) ? part.toString('utf8') : part
              )
            ),
          ]
        : []
    );
  }

  async #settleLostAnswer(change: UpdateChange, zone: string, lost: Error): Promise<void> {
    const { server, logger } = this.#settings;
    const where = formatServer(server);
    const { name, value } = change.record;
    const adding = change.action === 'add';
    const what = `${adding ? 'adding' : 'removing'} a TXT record at ${name}`;
    await settleLostAnswer({
      isThere: async (remainingMs) => (await this.#valuesAtPrimary(name, Math.min(5000, remainingMs))).includes(value),
      wanted: adding,
      timeoutMs: this.#settings.verifyTimeoutMs ?? 20_000,
      firstPauseMs: 250,
      maxPauseMs: 2000,
      applied: () =>
        logger.warn(
          { zone, name, action: change.action, server: where },
          `the answer to the DNS UPDATE was lost, but the primary shows it applied: the record is ${adding ? 'published' : 'removed'}`
        ),
      notApplied: () =>
        failedError(
          'dns-update-not-applied',
          `The DNS server ${where} did not answer ${what} (zone ${zone}): ${lost.message} Asked afterwards, it ${adding ? 'does not have the record: it was not published' : 'still has the record: it was not removed'}.`,
          { hint: 'Nothing changed in DNS. Check that the server is not overloaded and answers over TCP, then run the command again.' }
        ),
      unverified: (lastError) =>
        failedError(
          'dns-update-unverified',
          `The DNS server ${where} did not answer ${what} (zone ${zone}): ${lost.message} It could not be asked afterwards whether it applied the change (${lastError}), so the record may or may not be ${adding ? 'published' : 'removed'}.`,
          {
            hint: `Look at ${name} TXT on the primary (dig @${server.host} -p ${server.port} ${name} TXT). Running the command again is safe: adding a value that is there, or removing one that is gone, changes nothing.`,
          }
        ),
    });
  }
}
