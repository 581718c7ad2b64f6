// `mx-address`: the A and AAAA records of the mail host's name (the MX target), and which of them are the mail
// host's own addresses (host-addresses.ts says how that is decided).

import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { zoneLine } from '../dns/txt.ts';
import { isPublicAddress, type HostAddress, type InterfaceAddress } from './host-addresses.ts';
import { sentence, temperrorResult, type CheckResult } from './result.ts';

export interface MxAddressInput {
  hostname: string;
  a: DnsAnswer<string>;
  aaaa: DnsAnswer<string>;
  addresses: HostAddress[];
  /** The host's interfaces (undefined: they could not be read). */
  interfaces: InterfaceAddress[] | undefined;
}

/** The address to publish for a family: a public one on the interfaces, else any global one. */
function suggestedAddress(interfaces: InterfaceAddress[] | undefined, family: 4 | 6): string | undefined {
  const candidates = (interfaces ?? []).filter((entry) => entry.family === family);
  return (candidates.find((entry) => isPublicAddress(entry.address)) ?? candidates.find((entry) => entry.scope === 'global'))?.address;
}

export function evaluateMxAddress({ hostname, a, aaaa, addresses, interfaces }: MxAddressInput): CheckResult {
  const id = 'mx-address';
  if (a.status === 'temperror') return temperrorResult(id, a, hostname, 'A');
  if (aaaa.status === 'temperror') return temperrorResult(id, aaaa, hostname, 'AAAA');
  const inDns = addresses.filter((address) => address.inDns);
  if (inDns.length === 0) {
    const address = suggestedAddress(interfaces, 4) ?? suggestedAddress(interfaces, 6);
    const type = address !== undefined && address.includes(':') ? 'AAAA' : 'A';
    return {
      id,
      status: 'fail',
      summary: `${hostname} has no A or AAAA record: nobody can connect to it`,
      fix: `Publish: ${zoneLine(hostname, type, address ?? '<public IPv4 address of the mail host>')}`,
    };
  }
  const describe = (address: HostAddress) =>
    `${address.address} (${address.onHost === true ? 'on the mail host' : address.onHost === false ? 'NOT on the mail host' : 'public, behind NAT: not cross-checked'})`;
  const summary = `${hostname} has ${inDns.map(describe).join(', ')}`;
  const foreign = inDns.filter((address) => address.onHost === false);
  if (foreign.length > 0) {
    const fixes = foreign.map((address) => {
      const replacement = suggestedAddress(interfaces, address.family);
      const type = address.family === 6 ? 'AAAA' : 'A';
      return replacement === undefined
        ? `remove ${zoneLine(hostname, type, address.address)}`
        : `replace ${zoneLine(hostname, type, address.address)} with ${zoneLine(hostname, type, replacement)}`;
    });
    return { id, status: 'fail', summary, fix: `In DNS, ${fixes.join('; ')}` };
  }
  const missing = addresses.filter((address) => !address.inDns);
  if (missing.length > 0) {
    return {
      id,
      status: 'warn',
      summary: sentence([summary, `the host also has ${missing.map((address) => address.address).join(', ')}, which DNS does not list`]),
      fix: `Publish ${missing.map((address) => zoneLine(hostname, address.family === 6 ? 'AAAA' : 'A', address.address)).join(' and ')} (receivers check the address mail comes from)`,
    };
  }
  return { id, status: 'pass', summary };
}
