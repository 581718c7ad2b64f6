// What a certificate says, and whether a certificate and key are fit to be installed for chasquid.
//
// A pair is fit when: the full chain parses; the first certificate is the leaf, and each one is signed by the next;
// the private key belongs to the leaf; the leaf is valid now; and its names cover every name we asked for (a
// wildcard `*.d` covers `x.d` — one label — and a wanted wildcard must appear as such). chasquid refuses to start on a
// mismatched pair, so these checks run before anything is written on the host.

import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

export interface CertificateFacts {
  /** DNS names of the subject alternative name extension, lower case. */
  names: string[];
  /** The issuer's common name (or the whole issuer name when it has none). */
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint of the leaf, `AB:CD:…`. */
  fingerprint: string;
  serialNumber: string;
}

export interface CertificatePair {
  /** The leaf and its intermediates, PEM. */
  fullchain: string;
  /** The leaf's private key, PEM. */
  privkey: string;
}

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, in order; an error for anything that does not parse. */
export function parseChain(pem: string): X509Certificate[] {
  const blocks = pem.match(pemBlock) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

function dnsNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '').split(', ').filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice(4).toLowerCase());
}

function issuerName(certificate: X509Certificate): string {
  const commonName = /(?:^|\n)CN=([^\n]+)/.exec(certificate.issuer)?.[1];
  return commonName ?? certificate.issuer.replaceAll('\n', ', ');
}

export function certificateFacts(certificate: X509Certificate): CertificateFacts {
  return {
    names: dnsNames(certificate),
    issuer: issuerName(certificate),
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    fingerprint: certificate.fingerprint256,
    serialNumber: certificate.serialNumber,
  };
}

/** Whether a certificate listing `names` is valid for `wanted` (RFC 6125: a wildcard stands for exactly one label). */
export function covers(names: readonly string[], wanted: string): boolean {
  const name = wanted.toLowerCase();
  if (names.includes(name)) return true;
  if (name.startsWith('*.')) return false;
  const parent = name.slice(name.indexOf('.') + 1);
  return name.includes('.') && names.includes(`*.${parent}`);
}

/** The names in `wanted` that a certificate with `names` does not cover. */
export function missingNames(names: readonly string[], wanted: readonly string[]): string[] {
  return wanted.filter((name) => !covers(names, name));
}

export interface PairCheck {
  facts: CertificateFacts | undefined;
  problems: string[];
}

/** Every reason this pair must not be installed for `wanted` names (none: it is fit). */
export function checkPair(pair: CertificatePair, wanted: readonly string[], now: Date): PairCheck {
  const problems: string[] = [];
  let chain: X509Certificate[];
  try {
    chain = parseChain(pair.fullchain);
  } catch (error) {
    return { facts: undefined, problems: [`the certificate chain does not parse (${(error as Error).message})`] };
  }
  const leaf = chain[0];
  if (!leaf) return { facts: undefined, problems: ['the certificate file holds no certificate'] };
  const facts = certificateFacts(leaf);
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(pair.privkey);
  } catch (error) {
    problems.push(`the private key does not parse (${(error as Error).message})`);
  }
  if (key && !leaf.checkPrivateKey(key)) problems.push('the private key does not belong to the certificate');
  chain.slice(1).forEach((issuer, index) => {
    const subject = chain[index] as X509Certificate;
    if (!subject.checkIssued(issuer) || !subject.verify(issuer.publicKey)) {
      problems.push(`certificate ${index + 1} of the chain is not signed by certificate ${index + 2}`);
    }
  });
  if (now < facts.notBefore) problems.push(`the certificate is not valid before ${facts.notBefore.toISOString()}`);
  if (now >= facts.notAfter) problems.push(`the certificate expired on ${facts.notAfter.toISOString()}`);
  const missing = missingNames(facts.names, wanted);
  if (missing.length > 0) problems.push(`the certificate does not cover ${missing.join(', ')} (it has ${facts.names.join(', ') || 'no DNS names'})`);
  return { facts, problems };
}

const dayMs = 24 * 60 * 60 * 1000;

export function daysLeft(facts: CertificateFacts, now: Date): number {
  return Math.round(((facts.notAfter.getTime() - now.getTime()) / dayMs) * 10) / 10;
}

/** When renewal is due without ARI: once less than a third of the lifetime is left. */
export function thirdOfLifetimeLeft(facts: CertificateFacts): Date {
  const lifetime = facts.notAfter.getTime() - facts.notBefore.getTime();
  return new Date(facts.notAfter.getTime() - lifetime / 3);
}
