// `dmarc`: exactly one record at _dmarc.<domain>; valid syntax (RFC 7489 §6.3); a policy of quarantine or reject
// (none is a warning: it asks receivers to do nothing); rua/ruf hold valid URIs — a URI other than mailto: is a
// warning, since receivers send reports only by mail — and a report address in another domain is authorised by
// `<domain>._report._dmarc.<other domain>` (RFC 7489 §7.1), without which receivers send no reports there. Tag names
// and keyword values are case-insensitive, as the RFC's ABNF makes them; `DMARC1` is not.

import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { joinTxt, zoneLine } from '../dns/txt.ts';
import { sentence, temperrorResult, type CheckResult } from './result.ts';

export interface DmarcRecord {
  tags: Map<string, string>;
  errors: string[];
  /** Report addresses of rua and ruf. */
  reportAddresses: string[];
  /** Valid report URIs that are not mailto: (RFC 7489 allows any URI; receivers send reports only by mail). */
  otherReportUris: string[];
}

/**
 * Whether a TXT string is a DMARC record: `v=DMARC1` ending at `;` or the end (so `v=DMARC10` is not one). In RFC
 * 7489's ABNF the tag name "v" is a string literal, which matches either case, while DMARC1 is spelled in %x codes,
 * which match upper case only; the same holds for every tag name and the keyword values (`P=REJECT` is valid).
 */
export function isDmarcRecord(text: string): boolean {
  return /^[vV]\s*=\s*DMARC1\s*(;|$)/.test(text.trim());
}

const isDmarc = isDmarcRecord;

const tagRules: Record<string, (value: string) => boolean> = {
  v: (value) => value === 'DMARC1',
  p: (value) => ['none', 'quarantine', 'reject'].includes(value.toLowerCase()),
  sp: (value) => ['none', 'quarantine', 'reject'].includes(value.toLowerCase()),
  np: (value) => ['none', 'quarantine', 'reject'].includes(value.toLowerCase()),
  adkim: (value) => /^[rs]$/i.test(value),
  aspf: (value) => /^[rs]$/i.test(value),
  pct: (value) => /^[0-9]{1,3}$/.test(value) && Number(value) <= 100,
  fo: (value) => value.split(':').every((option) => /^[01ds]$/i.test(option.trim())),
  rf: (value) => value.split(':').every((format) => /^afrf$/i.test(format.trim())),
  ri: (value) => /^[0-9]{1,10}$/.test(value),
  rua: () => true,
  ruf: () => true,
  t: (value) => /^[yn]$/i.test(value),
  psd: (value) => /^[ynu]$/i.test(value),
};

/** The domain part of a mailto: URI's address (`mailto:d@example.com!10m`). */
function mailtoAddress(uri: string): string | undefined {
  const match = /^mailto:([^!@\s]+@([^!\s]+))(?:![0-9]+[kmgt]?)?$/i.exec(uri.trim());
  return match?.[1];
}

export function parseDmarc(text: string): DmarcRecord {
  const tags = new Map<string, string>();
  const errors: string[] = [];
  const parts = text
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  parts.forEach((part, index) => {
    const match = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(part);
    if (!match) {
      errors.push(`"${part}" is not a tag=value pair`);
      return;
    }
    const name = (match[1] ?? '').toLowerCase();
    const value = match[2] ?? '';
    if (index === 0 && name !== 'v') errors.push('the record does not start with v=DMARC1');
    if (tags.has(name)) errors.push(`${name}= appears more than once`);
    const rule = tagRules[name];
    if (rule && !rule(value)) errors.push(`${name}=${value} is not a valid value`);
    tags.set(name, value);
  });
  if (!tags.has('p')) errors.push('the required p= tag is missing');
  else if (parts[1] !== undefined && !/^p\s*=/i.test(parts[1])) errors.push('p= must come right after v=DMARC1');
  const reportAddresses: string[] = [];
  const otherReportUris: string[] = [];
  for (const tag of ['rua', 'ruf']) {
    const value = tags.get(tag);
    if (value === undefined) continue;
    for (const uri of value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')) {
      const address = mailtoAddress(uri);
      if (address !== undefined) reportAddresses.push(address);
      else if (/^mailto:/i.test(uri) || !/^[A-Za-z][A-Za-z0-9+.-]*:[^\s!]+(?:![0-9]+[kmgt]?)?$/.test(uri))
        errors.push(`${tag}: "${uri}" is not a valid report URI (mailto:address@domain)`);
      else otherReportUris.push(`${tag}=${uri}`);
    }
  }
  return { tags, errors, reportAddresses, otherReportUris };
}

/** Report addresses outside the domain, with the name that must authorise them. */
export function externalReportDomains(domain: string, record: DmarcRecord): Array<{ address: string; authorisationName: string }> {
  const result: Array<{ address: string; authorisationName: string }> = [];
  for (const address of record.reportAddresses) {
    const target = (address.split('@').pop() ?? '').toLowerCase();
    if (target === domain || target.endsWith(`.${domain}`) || domain.endsWith(`.${target}`)) continue;
    const authorisationName = `${domain}._report._dmarc.${target}`;
    if (!result.some((entry) => entry.authorisationName === authorisationName)) result.push({ address, authorisationName });
  }
  return result;
}

const partsOf = (text: string) =>
  text
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '');
const isTag = (part: string, tag: string) => new RegExp(`^${tag}\\s*=`, 'i').test(part);

/** The record with `tag` set to `value` (replaced where it is, else after p=). */
function withTagIn(text: string, tag: string, value: string): string {
  const parts = partsOf(text);
  const index = parts.findIndex((part) => isTag(part, tag));
  if (index >= 0) parts[index] = `${tag}=${value}`;
  else parts.splice(2, 0, `${tag}=${value}`);
  return parts.join('; ');
}

function withoutTag(text: string, tag: string): string {
  return partsOf(text)
    .filter((part) => !isTag(part, tag))
    .join('; ');
}

export interface DmarcInput {
  domain: string;
  txt: DnsAnswer<string[]>;
  /** TXT answers of the authorisation names of external report addresses. */
  authorisations: Record<string, DnsAnswer<string[]>>;
  /** Where the recommended record sends reports (mailops's report address); postmaster@ when not given. */
  reportAddress?: string;
}

export function recommendedDmarc(domain: string, reportAddress = `postmaster@${domain}`): string {
  return zoneLine(`_dmarc.${domain}`, 'TXT', `v=DMARC1; p=quarantine; rua=mailto:${reportAddress}`);
}

export function evaluateDmarc({ domain, txt, authorisations, reportAddress }: DmarcInput): CheckResult {
  const id = 'dmarc';
  const name = `_dmarc.${domain}`;
  if (txt.status === 'temperror') return temperrorResult(id, txt, name, 'TXT');
  const records = txt.status === 'ok' ? txt.records.map(joinTxt).filter(isDmarc) : [];
  if (records.length === 0)
    return {
      id,
      status: 'fail',
      summary: `${domain} publishes no DMARC record`,
      fix: `Publish: ${recommendedDmarc(domain, reportAddress)}`,
    };
  if (records.length > 1)
    return {
      id,
      status: 'fail',
      summary: `${name} holds ${records.length} DMARC records (receivers then ignore DMARC)`,
      fix: `Keep exactly one, for example: ${recommendedDmarc(domain, reportAddress)}`,
    };
  const text = records[0] ?? '';
  const record = parseDmarc(text);
  if (record.errors.length > 0)
    return {
      id,
      status: 'fail',
      summary: `"${text}" is invalid: ${record.errors.join('; ')}`,
      fix: `Correct it, for example: ${recommendedDmarc(domain, reportAddress)}`,
    };
  const policy = (record.tags.get('p') ?? '').toLowerCase();
  const pct = Number(record.tags.get('pct') ?? '100');
  const notes: string[] = [];
  const fixes: string[] = [];
  let improved = text;
  const withTag = (tag: string, value: string) => withTagIn(improved, tag, value);
  if (policy === 'none') {
    notes.push('p=none asks receivers to take no action on mail that fails DMARC');
    improved = withTag('p', 'quarantine');
  } else if (pct < 100) {
    notes.push(`pct=${pct} applies the policy to part of the failing mail only`);
    improved = withTag('pct', '100');
  }
  const policyChanged = improved !== text;
  if (record.otherReportUris.length > 0) {
    notes.push(
      `${record.otherReportUris.join(', ')} ${record.otherReportUris.length === 1 ? 'is not a mailto: address' : 'are not mailto: addresses'}; receivers send reports only by mail, so none arrive there`
    );
    const kept = (tag: string) =>
      (record.tags.get(tag) ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter((uri) => uri !== '' && mailtoAddress(uri) !== undefined);
    const rua = kept('rua').length > 0 ? kept('rua').join(',') : `mailto:${reportAddress ?? `postmaster@${domain}`}`;
    improved = withTag('rua', rua);
    if (record.tags.has('ruf')) {
      const ruf = kept('ruf');
      improved = ruf.length > 0 ? withTagIn(improved, 'ruf', ruf.join(',')) : withoutTag(improved, 'ruf');
    }
  }
  if (improved !== text)
    fixes.push(`${policyChanged ? 'Once reports show your mail passes, publish' : 'Publish'}: ${zoneLine(name, 'TXT', improved)}`);
  for (const { address, authorisationName } of externalReportDomains(domain, record)) {
    const answer = authorisations[authorisationName];
    if (answer?.status === 'temperror') return temperrorResult(id, answer, authorisationName, 'TXT');
    const authorised = answer?.status === 'ok' && answer.records.map(joinTxt).some(isDmarc);
    if (!authorised) {
      notes.push(`reports to ${address} are not authorised by ${authorisationName}, so receivers will not send them`);
      fixes.push(`In the zone of ${address.split('@').pop()}, publish: ${zoneLine(authorisationName, 'TXT', 'v=DMARC1')}`);
    }
  }
  const summary = sentence([
    `p=${policy}${record.tags.has('rua') ? `, reports to ${record.reportAddresses.join(', ')}` : ', no aggregate reports (rua)'}`,
    ...notes,
  ]);
  return fixes.length === 0 ? { id, status: 'pass', summary } : { id, status: 'warn', summary, fix: fixes.join('; ') };
}
