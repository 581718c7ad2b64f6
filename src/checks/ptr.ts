// `ptr`: for every address of the host (IPv4 and IPv6), reverse DNS exists, names chasquid's hostname, and that name
// resolves forward to the same address (forward-confirmed reverse DNS, which Gmail, Yahoo and Outlook expect).
// A PTR naming another host fails already, so the forward check only ever needs the hostname's own A/AAAA.

import { type DnsAnswer, reverseName } from '../dns/caching-resolver.ts';
import { zoneLine } from '../dns/txt.ts';
import { sameAddress, type HostAddress } from './host-addresses.ts';
import { temperrorResult, type CheckResult } from './result.ts';

export interface PtrInput {
  hostname: string;
  /** The addresses to check (the host's, as host-addresses.ts decides), each with its PTR answer. */
  addresses: Array<{ address: HostAddress; ptr: DnsAnswer<string> }>;
  /** The hostname's A and AAAA answers. */
  forward: { 4: DnsAnswer<string>; 6: DnsAnswer<string> };
}

export function evaluatePtr({ hostname, addresses, forward }: PtrInput): CheckResult {
  const id = 'ptr';
  if (addresses.length === 0) {
    return {
      id,
      status: 'fail',
      summary: `no address of the mail host is known (${hostname} has no A or AAAA record)`,
      fix: `Publish ${zoneLine(hostname, 'A', '<public IPv4 address of the mail host>')}, then set its reverse DNS to ${hostname}`,
    };
  }
  const good: string[] = [];
  const problems: string[] = [];
  const fixes: string[] = [];
  let failed = false;
  for (const { address, ptr } of addresses) {
    const ip = address.address;
    const ptrRecord = zoneLine(reverseName(ip), 'PTR', `${hostname}.`);
    if (ptr.status === 'temperror') return temperrorResult(id, ptr, reverseName(ip), 'PTR');
    if (ptr.status !== 'ok') {
      failed = true;
      problems.push(`${ip} has no PTR record`);
      fixes.push(
        `set the reverse DNS of ${ip} to ${hostname} at whoever runs the address (usually in the hosting provider's panel): ${ptrRecord}`
      );
      continue;
    }
    const names = ptr.records.map((name) => name.toLowerCase().replace(/\.$/, ''));
    if (!names.includes(hostname)) {
      failed = true;
      problems.push(`PTR of ${ip} is ${names.join(', ')}, not ${hostname}`);
      fixes.push(`change the reverse DNS of ${ip} to ${hostname}: ${ptrRecord}`);
      continue;
    }
    const answer = forward[address.family];
    if (answer.status === 'temperror') return temperrorResult(id, answer, hostname, address.family === 6 ? 'AAAA' : 'A');
    const forwardAddresses = answer.status === 'ok' ? answer.records : [];
    if (!forwardAddresses.some((candidate) => sameAddress(candidate, ip))) {
      failed = true;
      problems.push(`PTR of ${ip} is ${hostname}, but ${hostname} does not resolve to ${ip}`);
      fixes.push(`publish ${zoneLine(hostname, address.family === 6 ? 'AAAA' : 'A', ip)}`);
      continue;
    }
    if (names.length > 1) {
      problems.push(`${ip} has several PTR records (${names.join(', ')})`);
      fixes.push(`keep only ${ptrRecord}`);
      continue;
    }
    good.push(`${ip} → ${hostname}`);
  }
  const summary = [...problems, ...good].join('; ');
  if (problems.length === 0) return { id, status: 'pass', summary: `${summary} (forward-confirmed)` };
  const fix = fixes.map((text, index) => (index === 0 ? text.charAt(0).toUpperCase() + text.slice(1) : text)).join('; ');
  return { id, status: failed ? 'fail' : 'warn', summary, fix };
}
