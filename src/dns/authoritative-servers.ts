// Lookups mailops makes to publish records safely: which zone a name belongs to, which servers are authoritative
// for it, and what one particular server answers. Node's own resolver (c-ares) does the queries; each
// `Resolver` here talks to exactly one server, so an answer always says what that server holds.
//
// Ports: name servers listen on port 53, except servers mailops is configured with (DNS_RESOLVER, RFC2136_SERVER),
// whose configured port is used when an NS record points at their address — a primary on a non-standard port,
// and the test lab, where one Knot on a high port is resolver and authoritative server at once.

import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import type { HostPort } from '../config.ts';
import { failedError } from '../errors.ts';
import { formatServer } from './exchange.ts';

export interface ResolverOptions {
  /** Per-query timeout. */
  timeoutMs?: number;
  tries?: number;
}

/** A resolver that asks `server` (or the system's resolvers when undefined). */
export function resolverFor(server: HostPort | undefined, options: ResolverOptions = {}): Resolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
  if (server) resolver.setServers([formatServer(server)]);
  return resolver;
}

/** The DNS error codes that mean "no such name or no such record": an answer, not a failure. */
const noRecordCodes = new Set(['ENODATA', 'ENOTFOUND']);

export function isNoRecord(error: unknown): boolean {
  return noRecordCodes.has((error as NodeJS.ErrnoException).code ?? '');
}

function lookupFailed(what: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return failedError('dns-lookup-failed', `Looking up ${what} failed: ${code}.`, {
    hint: 'Check DNS_RESOLVER (or the system resolver) and that the name server answers; then try again.',
    cause: error,
  });
}

/** The zone (apex) that holds `name`: the closest enclosing name with an SOA record. */
export async function findZone(name: string, resolver: Resolver): Promise<string> {
  const labels = name.replace(/\.$/, '').toLowerCase().split('.');
  let refused = false;
  for (let start = 0; start < labels.length - 1; start += 1) {
    const candidate = labels.slice(start).join('.');
    try {
      await resolver.resolveSoa(candidate);
      return candidate;
    } catch (error) {
      // REFUSED: an authoritative server asked about a name outside its zones; a parent may still be one of them.
      if ((error as NodeJS.ErrnoException).code === 'EREFUSED') refused = true;
      else if (!isNoRecord(error)) throw lookupFailed(`the SOA record of ${candidate}`, error);
    }
  }
  throw failedError(
    'dns-zone-not-found',
    `No DNS zone holding ${name} was found: none of its parents has an SOA record${refused ? ' (the server refused to answer for some)' : ''}.`,
    {
      hint: 'Check that the domain is delegated, that DNS_RESOLVER can see it, and (rfc2136) that RFC2136_SERVER is the primary of its zone.',
    }
  );
}

export interface AuthoritativeServer {
  /** The NS name. */
  name: string;
  address: string;
  port: number;
}

/** Ports for addresses of servers we are configured with (see the top of this file). */
export function knownServerPorts(servers: ReadonlyArray<HostPort | undefined>): Map<string, number> {
  const ports = new Map<string, number>();
  for (const server of servers) if (server && net.isIP(server.host) !== 0 && !ports.has(server.host)) ports.set(server.host, server.port);
  return ports;
}

/** Every address of every NS of `zone`, each with the port to ask it on. */
export async function authoritativeServers(
  zone: string,
  resolver: Resolver,
  ports: ReadonlyMap<string, number>
): Promise<AuthoritativeServer[]> {
  let names: string[];
  try {
    names = await resolver.resolveNs(zone);
  } catch (error) {
    throw lookupFailed(`the NS records of ${zone}`, error);
  }
  if (names.length === 0) {
    throw failedError('dns-no-nameservers', `The zone ${zone} has no NS records.`, { hint: 'Check the delegation of the zone.' });
  }
  const servers = await Promise.all(
    names.map(async (name) => {
      const addresses: string[] = [];
      for (const family of ['resolve4', 'resolve6'] as const) {
        try {
          addresses.push(...(await resolver[family](name)));
        } catch (error) {
          if (!isNoRecord(error)) throw lookupFailed(`the address of the name server ${name}`, error);
        }
      }
      if (addresses.length === 0) {
        throw failedError('dns-nameserver-unresolvable', `The name server ${name} of ${zone} has no address.`, {
          hint: `Fix the A/AAAA records of ${name} (or the NS records of ${zone}).`,
        });
      }
      return addresses.map((address) => ({ name: name.toLowerCase(), address, port: ports.get(address) ?? 53 }));
    })
  );
  return servers.flat();
}
