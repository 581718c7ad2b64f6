// `dkim`: for each selector the host signs with (chasquid/dkim-signing-keys.ts), the key published at
// <selector>._domainkey.<domain> is the host's key; RSA keys have at least 2048 bits (1024 is a warning); an ed25519
// key has an RSA companion (many receivers cannot verify ed25519 yet); each TXT string is at most 255 bytes.

import { dkimRecordName, dkimRecordValue } from '../chasquid/dkim-key.ts';
import type { DkimKeyOnHost, DkimSetup } from '../chasquid/dkim-signing-keys.ts';
import { describeDkimLayout } from '../chasquid/version.ts';
import type { DnsAnswer } from '../dns/caching-resolver.ts';
import { zoneLine } from '../dns/txt.ts';
import { temperrorResult, type CheckResult } from './result.ts';

export interface DkimInput {
  domain: string;
  setup: DkimSetup;
  /** The TXT answer at <selector>._domainkey.<domain>, by selector. */
  records: Record<string, DnsAnswer<string[]>>;
}

/** `v=DKIM1; k=rsa; p=…` tags of a DKIM key record. */
export function parseDkimRecord(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    tags.set(part.slice(0, index).trim().toLowerCase(), part.slice(index + 1).replace(/\s+/g, ''));
  }
  return tags;
}

interface KeyVerdict {
  status: 'pass' | 'warn' | 'fail';
  text: string;
  fix?: string;
  temperror?: CheckResult;
}

function judgeKey(domain: string, key: DkimKeyOnHost, answer: DnsAnswer<string[]> | undefined): KeyVerdict {
  const name = dkimRecordName(key.selector, domain);
  if (key.publicKey === undefined) {
    return {
      status: 'fail',
      text: `selector ${key.selector}: ${key.problem ?? 'the key cannot be read'}`,
      fix: `Replace the key: mailops dkim-rotate ${domain}`,
    };
  }
  const publish = zoneLine(name, 'TXT', dkimRecordValue(key.publicKey));
  if (answer === undefined || answer.status === 'nxdomain' || answer.status === 'nodata') {
    return { status: 'fail', text: `selector ${key.selector}: no key published at ${name}`, fix: `Publish: ${publish}` };
  }
  if (answer.status === 'temperror')
    return { status: 'fail', text: answer.message, temperror: temperrorResult('dkim', answer, name, 'TXT') };
  const records = answer.records.filter((strings) => /^\s*v=DKIM1\s*(;|$)/i.test(strings.join('')) || /(^|;)\s*p=/i.test(strings.join('')));
  if (records.length === 0)
    return { status: 'fail', text: `selector ${key.selector}: ${name} holds no DKIM key record`, fix: `Publish: ${publish}` };
  if (records.length > 1)
    return { status: 'fail', text: `selector ${key.selector}: ${name} holds ${records.length} key records`, fix: `Keep only: ${publish}` };
  const strings = records[0] ?? [];
  const long = strings.find((part) => Buffer.byteLength(part) > 255);
  if (long !== undefined) {
    return {
      status: 'fail',
      text: `selector ${key.selector}: a string of the record is ${Buffer.byteLength(long)} bytes (at most 255)`,
      fix: `Publish it split into strings: ${publish}`,
    };
  }
  const tags = parseDkimRecord(strings.join(''));
  const published = tags.get('p') ?? '';
  if (published === '')
    return { status: 'fail', text: `selector ${key.selector}: the key at ${name} is revoked (empty p=)`, fix: `Publish: ${publish}` };
  if (published !== key.publicKey.p) {
    return {
      status: 'fail',
      text: `selector ${key.selector}: the key published at ${name} is not the key on the host`,
      fix: `Replace the record with: ${publish}`,
    };
  }
  if (key.publicKey.algorithm === 'rsa' && (key.publicKey.bits ?? 0) < 1024) {
    return {
      status: 'fail',
      text: `selector ${key.selector}: RSA ${key.publicKey.bits} bits is too weak (receivers ignore it)`,
      fix: `Use a 2048-bit key: mailops dkim-rotate ${domain} --algo rsa2048`,
    };
  }
  if (key.publicKey.algorithm === 'rsa' && (key.publicKey.bits ?? 0) < 2048) {
    return {
      status: 'warn',
      text: `selector ${key.selector}: RSA ${key.publicKey.bits} bits is weak`,
      fix: `Use a 2048-bit key: mailops dkim-rotate ${domain} --algo rsa2048`,
    };
  }
  if (tags.get('t')?.split(':').includes('y')) {
    return {
      status: 'warn',
      text: `selector ${key.selector}: the record is in test mode (t=y), receivers may ignore the signature`,
      fix: `Publish it without t=y: ${publish}`,
    };
  }
  const kind = key.publicKey.algorithm === 'rsa' ? `RSA ${key.publicKey.bits}` : key.publicKey.algorithm;
  return { status: 'pass', text: `selector ${key.selector} (${kind}) published and matching` };
}

export function evaluateDkim({ domain, setup, records }: DkimInput): CheckResult {
  const id = 'dkim';
  const layout = describeDkimLayout(setup.layout);
  if (setup.keys.length === 0) {
    return {
      id,
      status: 'fail',
      summary: `the host has no DKIM key for ${domain}, so its mail is not signed (chasquid uses ${layout})`,
      fix: `Create and publish a key: mailops dkim-rotate ${domain}`,
    };
  }
  if (setup.layout === 'hook' && setup.hookProblems.length > 0) {
    return {
      id,
      status: 'fail',
      summary: `the host has a DKIM key for ${domain}, but the post-data hook cannot sign with it`,
      fix: setup.hookProblems.join('; '),
    };
  }
  const verdicts = setup.keys.map((key) => judgeKey(domain, key, records[key.selector]));
  const temperror = verdicts.find((verdict) => verdict.temperror !== undefined)?.temperror;
  if (temperror) return temperror;
  const summary = verdicts.map((verdict) => verdict.text).join('; ');
  const failed = verdicts.filter((verdict) => verdict.status === 'fail');
  if (failed.length > 0) return { id, status: 'fail', summary, fix: failed.map((verdict) => verdict.fix).join('; ') };
  const warned = verdicts.filter((verdict) => verdict.status === 'warn');
  if (warned.length > 0) return { id, status: 'warn', summary, fix: warned.map((verdict) => verdict.fix).join('; ') };
  const hasRsa = setup.keys.some((key) => key.publicKey?.algorithm === 'rsa');
  if (!hasRsa) {
    return {
      id,
      status: 'warn',
      summary: `${summary}; no RSA key beside it: receivers that cannot verify ed25519 see unsigned mail`,
      fix: `Add an RSA key: mailops dkim-rotate ${domain} --algo rsa2048`,
    };
  }
  return { id, status: 'pass', summary };
}
