// When a certificate is due for renewal.
//
// With ACME Renewal Information (ARI, RFC 9773), the CA says when: its directory lists a `renewalInfo` URL, and
// `GET <renewalInfo>/<certificate id>` answers a suggested window. We renew from a time chosen at random inside the
// window (RFC 9773 section 4.2), so that many hosts do not all renew at the window's first second; the time is kept in
// the state database with the window (src/store/renewal-info.ts), so that repeated runs agree, and chosen again only
// when the CA moves the window. A window that ends before a third of the lifetime is left is the CA asking for early
// renewal (after a revocation, or an incident): the reason says so. Without ARI (the CA does not offer it, or it
// cannot be reached), a certificate is due once less than a third of its lifetime is left — 30 days of a 90-day
// certificate, 15 of a 45-day one.

import { createHash, X509Certificate } from 'node:crypto';
import { AuthorityKeyIdentifierExtension, X509Certificate as ParsedCertificate } from '@peculiar/x509';
import { thirdOfLifetimeLeft, type CertificateFacts } from './certificate.ts';

export interface RenewalWindow {
  start: Date;
  end: Date;
  explanationUrl?: string;
  /** The time chosen at random inside the window; without it, a point derived from the serial number. */
  renewAt?: Date;
  /** The certificate's ARI identifier: what an order that replaces it sends as `replaces`. */
  certificateId?: string;
}

export interface RenewalDecision {
  due: boolean;
  /** When it is (or was) due. */
  dueAt: Date;
  /** Where the date comes from. */
  source: 'ari' | 'lifetime';
  /** One sentence for people. */
  reason: string;
}

/** The ARI certificate identifier: base64url(authority key identifier) "." base64url(DER serial number). */
export function ariId(keyIdHex: string, serialHex: string): string {
  let serial = Buffer.from(serialHex.length % 2 === 1 ? `0${serialHex}` : serialHex, 'hex');
  // DER integers are signed: a leading byte with the high bit set gets a 0x00 in front.
  if ((serial[0] ?? 0) & 0x80) serial = Buffer.concat([Buffer.from([0]), serial]);
  return `${Buffer.from(keyIdHex, 'hex').toString('base64url')}.${serial.toString('base64url')}`;
}

/** The ARI identifier of a certificate; undefined when it has no authority key identifier. */
export function ariCertificateId(leafPem: string): string | undefined {
  const keyId = new ParsedCertificate(leafPem).getExtension(AuthorityKeyIdentifierExtension)?.keyId;
  return keyId ? ariId(keyId, new X509Certificate(leafPem).serialNumber) : undefined;
}

/** A uniformly random time inside the window (RFC 9773 section 4.2). */
export function randomTimeInWindow(window: Pick<RenewalWindow, 'start' | 'end'>, random: () => number = Math.random): Date {
  return new Date(window.start.getTime() + Math.floor((window.end.getTime() - window.start.getTime()) * random()));
}

/** Whether the CA asks for renewal earlier than the lifetime rule would: its whole window lies before that point. */
export function isEarlyRenewal(facts: CertificateFacts, window: Pick<RenewalWindow, 'end'>): boolean {
  return window.end < thirdOfLifetimeLeft(facts);
}

/** A point inside the window, fixed for this certificate (when no random time was chosen and kept). */
function pointInWindow(window: RenewalWindow, serialNumber: string): Date {
  const fraction = createHash('sha256').update(serialNumber).digest().readUInt32BE(0) / 2 ** 32;
  return new Date(window.start.getTime() + (window.end.getTime() - window.start.getTime()) * fraction);
}

export function decideRenewal(facts: CertificateFacts, now: Date, window?: RenewalWindow): RenewalDecision {
  if (window) {
    const dueAt = window.renewAt ?? pointInWindow(window, facts.serialNumber);
    const due = now >= dueAt;
    const early = isEarlyRenewal(facts, window);
    const explanation = window.explanationUrl === undefined ? '' : ` (${window.explanationUrl})`;
    return {
      due,
      dueAt,
      source: 'ari',
      reason: due
        ? early
          ? `the CA asked for early renewal: its renewal window (ARI) opened on ${window.start.toISOString()}${explanation}`
          : `the CA's renewal window (ARI) opened on ${window.start.toISOString()}`
        : `the CA's renewal window (ARI) suggests renewing from ${dueAt.toISOString()}`,
    };
  }
  const dueAt = thirdOfLifetimeLeft(facts);
  const due = now >= dueAt;
  return {
    due,
    dueAt,
    source: 'lifetime',
    reason: due
      ? `less than a third of its lifetime is left (expires ${facts.notAfter.toISOString()})`
      : `more than a third of its lifetime is left; renewal is due from ${dueAt.toISOString()}`,
  };
}

/** The window from an ARI answer, or undefined when the answer is not one. */
export function parseRenewalInfo(body: unknown): RenewalWindow | undefined {
  const window = (body as { suggestedWindow?: { start?: unknown; end?: unknown } } | undefined)?.suggestedWindow;
  if (typeof window?.start !== 'string' || typeof window.end !== 'string') return undefined;
  const start = new Date(window.start);
  const end = new Date(window.end);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) return undefined;
  const explanationUrl = (body as { explanationURL?: unknown }).explanationURL;
  return { start, end, ...(typeof explanationUrl === 'string' ? { explanationUrl } : {}) };
}
