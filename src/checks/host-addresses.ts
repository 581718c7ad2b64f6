// "Every address of the host": the addresses the mail host receives on and sends from.
//
// They are the A and AAAA records of chasquid's hostname (what the world is told), cross-checked with the addresses
// on the host's own interfaces (read over SSH with `ip -o addr show`):
//   - a DNS address that is on an interface is the host's;
//   - a DNS address that is not, while the host has a public address of that family on an interface, points
//     somewhere else (a stale record) — it is still checked, and mx-address reports the mismatch;
//   - a public DNS address with no public address of that family on the interfaces is normal behind 1:1 NAT (cloud
//     VMs): it is taken as the host's, uncross-checked;
//   - a public interface address that DNS does not list is added: the kernel may pick it as the source of outgoing
//     mail (IPv6 above all), so receivers will check its PTR and SPF too.
// In the lab everything is on 127.0.0.1 (on `lo`), and the lab serves 127.in-addr.arpa with a PTR for the hostname.

import ipaddr from 'ipaddr.js';

export interface InterfaceAddress {
  address: string;
  family: 4 | 6;
  /** `ip`'s scope: global, host, link. */
  scope: string;
}

export interface HostAddress {
  address: string;
  family: 4 | 6;
  /** Listed in DNS as an address of the hostname. */
  inDns: boolean;
  /** Seen on an interface of the host; undefined when it cannot be told (NAT, or the interfaces could not be read). */
  onHost: boolean | undefined;
}

/** Parses `ip -o addr show`: `2: eth0    inet 192.0.2.2/24 brd … scope global eth0…`. */
export function parseInterfaceAddresses(output: string): InterfaceAddress[] {
  const addresses: InterfaceAddress[] = [];
  for (const line of output.split('\n')) {
    const match = /\binet(6?)\s+([0-9a-fA-F.:]+)\/[0-9]+.*?\bscope\s+(\S+)/.exec(line);
    if (!match || !ipaddr.isValid(match[2] ?? '')) continue;
    addresses.push({ address: ipaddr.parse(match[2] ?? '').toString(), family: match[1] === '6' ? 6 : 4, scope: match[3] ?? '' });
  }
  return addresses;
}

/** Publicly routable unicast (not private, loopback, link-local, documentation, CGNAT, ULA…). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return parsed.range() === 'unicast';
}

export function sameAddress(a: string, b: string): boolean {
  return ipaddr.isValid(a) && ipaddr.isValid(b) && ipaddr.process(a).toString() === ipaddr.process(b).toString();
}

/** The host's addresses from the hostname's DNS addresses and the interfaces (undefined: could not be read). */
export function mailHostAddresses(dnsAddresses: readonly string[], interfaces: readonly InterfaceAddress[] | undefined): HostAddress[] {
  const result: HostAddress[] = [];
  for (const address of dnsAddresses) {
    if (result.some((known) => sameAddress(known.address, address))) continue;
    const family = ipaddr.process(address).kind() === 'ipv6' ? 6 : 4;
    let onHost: boolean | undefined;
    if (interfaces !== undefined) {
      const seen = interfaces.some((entry) => sameAddress(entry.address, address));
      const hostHasPublic = interfaces.some((entry) => entry.family === family && isPublicAddress(entry.address));
      // Behind NAT the public address is nowhere on the host: we cannot tell. A private address that is not on the
      // host is certainly not the host's.
      onHost = seen ? true : hostHasPublic || !isPublicAddress(address) ? false : undefined;
    }
    result.push({ address: ipaddr.process(address).toString(), family, inDns: true, onHost });
  }
  for (const entry of interfaces ?? []) {
    if (entry.scope !== 'global' || !isPublicAddress(entry.address)) continue;
    if (result.some((known) => sameAddress(known.address, entry.address))) continue;
    result.push({ address: entry.address, family: entry.family, inDns: false, onHost: true });
  }
  return result;
}
