// The resolver mailauth asks for DKIM keys, SPF and DMARC records: `resolver(name, rrtype)` answering what
// `dns.promises.resolve` answers, pointed at DNS_RESOLVER (the system resolver when unset).

import type { HostPort } from '../config.ts';
import { resolverFor } from './resolver.ts';

export type MailauthResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>;

export function mailauthResolver(server: HostPort | undefined): MailauthResolver {
  const resolver = resolverFor(server);
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}
