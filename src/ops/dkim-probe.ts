// Checking that chasquid really signs with a new DKIM key: a freshly submitted message, captured on the host after
// signing (src/probe), must carry a signature with the new selector that verifies against DNS (mailauth).

import { dkimVerify } from 'mailauth';
import type { MailauthResolver } from '../dns/caching-resolver.ts';
import { sendProbe } from '../probe/probe.ts';
import type { OperationContext } from './context.ts';

/** Submits a fresh message from `domain` through the host and returns it as captured after signing (raw RFC 5322). */
export type SignedMessageProbe = (domain: string) => Promise<Buffer>;

/** The probe of src/probe: mailops's own sender submits, its capturing inbox on the host keeps the message. */
export function hostProbe(context: OperationContext): SignedMessageProbe {
  return async (domain) => (await sendProbe(context, domain)).raw;
}

export interface SignatureCheck {
  ok: boolean;
  /** What the message's signatures gave, for people: `s=20260315 pass; s=20250101 pass`. */
  detail: string;
}

/** Whether `message` carries a DKIM signature by `domain` with `selector` that verifies against DNS. */
export async function checkSignature(
  message: Buffer,
  domain: string,
  selector: string,
  resolver: MailauthResolver
): Promise<SignatureCheck> {
  const { results } = await dkimVerify(message, { resolver });
  const ours = results.filter((result) => result.signingDomain === domain);
  const detail =
    ours.length === 0
      ? `no DKIM signature by ${domain}`
      : ours
          .map(
            (result) => `s=${result.selector ?? '?'} ${result.status.result}${result.status.comment ? ` (${result.status.comment})` : ''}`
          )
          .join('; ');
  const ok = ours.some((result) => result.selector === selector && result.status.result === 'pass');
  return { ok, detail };
}
