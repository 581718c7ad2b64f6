// `mx`: the domain's MX records exist, point at the chasquid host by name, hold no duplicates; a null MX
// (RFC 7505: `MX 0 .`, "this domain accepts no mail") is recognised and reported as such.

import type { MxRecord } from 'node:dns';
import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { zoneLine } from '../dns/txt.ts';
import { temperrorResult, type CheckResult } from './result.ts';

export interface MxInput {
  domain: string;
  /** chasquid's hostname. */
  hostname: string;
  mx: DnsAnswer<MxRecord>;
}

const exchangeOf = (record: MxRecord) => record.exchange.toLowerCase().replace(/\.$/, '');

export function evaluateMx({ domain, hostname, mx }: MxInput): CheckResult {
  const id = 'mx';
  const wanted = zoneLine(domain, 'MX', `10 ${hostname}.`);
  if (mx.status === 'temperror') return temperrorResult(id, mx, domain, 'MX');
  if (mx.status === 'nxdomain') {
    return {
      id,
      status: 'fail',
      summary: `${domain} does not exist in DNS (NXDOMAIN)`,
      fix: `Create the zone ${domain} with its MX record: ${wanted}`,
    };
  }
  if (mx.status === 'nodata') {
    return { id, status: 'fail', summary: `${domain} has no MX record`, fix: `Publish: ${wanted}` };
  }
  const records = [...mx.records].sort((a, b) => a.priority - b.priority);
  const shown = records.map((record) => `${record.priority} ${exchangeOf(record) || '.'}`).join(', ');
  if (records.some((record) => exchangeOf(record) === '')) {
    return {
      id,
      status: 'fail',
      summary: `null MX (${shown}): the domain declares that it accepts no mail`,
      fix: `Replace the null MX record ("${domain}. MX 0 .") with: ${wanted}`,
    };
  }
  const exchanges = records.map(exchangeOf);
  if (!exchanges.includes(hostname)) {
    return {
      id,
      status: 'fail',
      summary: `MX ${shown} does not point at the mail host ${hostname}`,
      fix: `Publish ${wanted} (and remove the MX records of hosts that do not deliver to ${hostname})`,
    };
  }
  const duplicates = [...new Set(exchanges.filter((exchange, index) => exchanges.indexOf(exchange) !== index))];
  if (duplicates.length > 0) {
    const keep = records.find((record) => exchangeOf(record) === duplicates[0]);
    return {
      id,
      status: 'warn',
      summary: `MX ${shown} lists ${duplicates.join(', ')} more than once`,
      fix: `Keep one MX record per host: remove all but ${zoneLine(domain, 'MX', `${keep?.priority ?? 10} ${duplicates[0]}.`)}`,
    };
  }
  const others = exchanges.filter((exchange) => exchange !== hostname);
  if (others.length > 0) {
    return {
      id,
      status: 'warn',
      summary: `MX ${shown}: ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} not the mail host, and mailops cannot check ${others.length === 1 ? 'it' : 'them'}`,
      fix: `Remove the MX record${others.length === 1 ? '' : 's'} of ${others.join(', ')} unless ${others.length === 1 ? 'it relays' : 'they relay'} mail to ${hostname}`,
    };
  }
  return { id, status: 'pass', summary: `MX ${shown} (the mail host)` };
}
