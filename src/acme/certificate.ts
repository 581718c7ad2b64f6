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
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
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
  /** The leaf, when the chain holds one. */
  leaf?: X509Certificate;
}

/**
 * Whether a certificate and key belong together as chasquid loads them — one function for every place that asks
 * (installing, cert-status, status, the tls check, cert-renew's "is it due", the check before a restart): the chain
 * parses and holds a certificate, the key parses and belongs to the first certificate (the leaf), each certificate
 * is signed by the next one, and the leaf covers every name in `wanted`. Validity dates are not judged here: an
 * expired certificate is a matching pair (reported by its days left), a mismatched one is broken at any date.
 */
export function pairMismatch(pair: CertificatePair, wanted: readonly string[] = []): PairCheck {
  const { facts, problems, leaf } = keyAndChainProblems(pair);
  return { facts, problems: facts ? [...problems, ...nameProblems(facts, wanted)] : problems, ...(leaf ? { leaf } : {}) };
}

function nameProblems(facts: CertificateFacts, wanted: readonly string[]): string[] {
  const missing = missingNames(facts.names, wanted);
  return missing.length > 0
    ? [`the certificate does not cover ${missing.join(', ')} (it has ${facts.names.join(', ') || 'no DNS names'})`]
    : [];
}

function keyAndChainProblems(pair: CertificatePair): PairCheck {
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
  return { facts, problems, leaf };
}

/** The files of an installed pair as read from certs/<name>/ (undefined: the file is missing). */
export interface InstalledPairFiles {
  fullchain: string | undefined;
  privkey: string | undefined;
}

/**
 * What is wrong with the pair installed in `dir` (certs/<name>, for messages), in words that name the file: a file
 * missing, or `pairMismatch`'s reasons. Empty when the pair matches. chasquid refuses to start on a key that does
 * not match its certificate, and skips a directory that lacks one of the two files.
 */
export function installedPairProblems(dir: string, files: InstalledPairFiles, wanted: readonly string[] = []): PairCheck {
  const missing = (['fullchain', 'privkey'] as const).filter((file) => files[file] === undefined).map((file) => `${dir}/${file}.pem`);
  if (files.fullchain === undefined || files.privkey === undefined) {
    let leaf: X509Certificate | undefined;
    try {
      leaf = files.fullchain === undefined ? undefined : parseChain(files.fullchain)[0];
    } catch {
      leaf = undefined;
    }
    return {
      facts: leaf ? certificateFacts(leaf) : undefined,
      problems: [`${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing`],
      ...(leaf ? { leaf } : {}),
    };
  }
  const { facts, problems, leaf } = pairMismatch({ fullchain: files.fullchain, privkey: files.privkey }, wanted);
  const named = problems.map((problem) =>
    problem
      .replace(
        'the private key does not belong to the certificate',
        `${dir}/privkey.pem does not belong to the certificate in ${dir}/fullchain.pem`
      )
      .replace(/^the private key /, `${dir}/privkey.pem: the private key `)
      .replace(/^the certificate (chain|file) /, `${dir}/fullchain.pem: the certificate $1 `)
      .replace(/^certificate ([0-9]+) of the chain /, `${dir}/fullchain.pem: certificate $1 of the chain `)
      .replace(/^the certificate does not cover /, `${dir}/fullchain.pem does not cover `)
  );
  return { facts, problems: named, ...(leaf ? { leaf } : {}) };
}

/** Every reason this pair must not be installed for `wanted` names (none: it is fit). */
export function checkPair(pair: CertificatePair, wanted: readonly string[], now: Date): PairCheck {
  const { facts, problems } = keyAndChainProblems(pair);
  if (!facts) return { facts, problems };
  if (now < facts.notBefore) problems.push(`the certificate is not valid before ${facts.notBefore.toISOString()}`);
  if (now >= facts.notAfter) problems.push(`the certificate expired on ${facts.notAfter.toISOString()}`);
  return { facts, problems: [...problems, ...nameProblems(facts, wanted)] };
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
