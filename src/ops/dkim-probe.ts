// Checking that chasquid really signs with a new DKIM key: a freshly submitted message, captured on the host after
// signing, must carry a signature with the new selector that verifies against DNS (mailauth).
//
// The message comes from a probe: a sender mailops owns submits through the host's submission service and the
// message is read back on the host. The probe is supplied by the caller (SignedMessageProbe); dkim-rotate depends on
// this interface only.

import { dkimVerify } from 'mailauth';
import type { MailauthResolver } from '../dns/mailauth-resolver.ts';

export interface SignedMessageProbe {
  /** Called before dkim-rotate takes the host lock: set up what the probe needs (its sender, its capture). */
  prepare(domain: string): Promise<void>;
  /**
   * Submits a fresh message from `domain` through the host's submission service and returns it as captured on the
   * host after signing (RFC 5322, raw). Called while dkim-rotate holds the host lock: it must not take the lock.
   */
  signedMessage(domain: string): Promise<Buffer>;
}

export interface SignatureCheck {
  ok: boolean;
  /** What the message's signatures gave, for people: `s=20260315 pass; s=20250101 pass`. */
  detail: string;
}

/** Whether `message` carries a DKIM signature by `domain` with `selector` that verifies against DNS. */
export async function checkSignature(message: Buffer, domain: string, selector: string, resolver: MailauthResolver): Promise<SignatureCheck> {
  const { results } = await dkimVerify(message, { resolver });
  const ours = results.filter((result) => result.signingDomain === domain);
  const detail = ours.length === 0 ? `no DKIM signature by ${domain}` : ours.map((result) =>
    `s=${result.selector ?? '?'} ${result.status.result}${result.status.comment ? ` (${result.status.comment})` : ''}`).join('; ');
  const ok = ours.some((result) => result.selector === selector && result.status.result === 'pass');
  return { ok, detail };
}
