import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPair, covers, installedPairProblems, missingNames, pairMismatch } from './certificate.ts';

/** A CA and a leaf it signs for `names` (openssl), as PEM. */
function makePair(names: string[], days = 30): { fullchain: string; privkey: string; otherKey: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-cert-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '30',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    '/CN=Test CA'
  );
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.csr',
    '-subj',
    `/CN=${names[0]}`
  );
  writeFileSync(path.join(dir, 'ext'), `subjectAltName=${names.map((name) => `DNS:${name}`).join(',')}\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    String(days),
    '-extfile',
    'ext',
    '-out',
    'leaf.pem'
  );
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  return { fullchain: read('leaf.pem') + read('ca.pem'), privkey: read('leaf.key'), otherKey: read('ca.key') };
}

describe('certificate checks', () => {
  it('matches names as TLS clients do: a wildcard stands for one label', () => {
    expect(covers(['*.example.com'], 'mail.example.com')).toBe(true);
    expect(covers(['*.example.com'], 'a.b.example.com')).toBe(false);
    expect(covers(['*.example.com'], 'example.com')).toBe(false);
    expect(covers(['mail.example.com'], '*.example.com')).toBe(false);
    expect(missingNames(['mail.example.com', '*.example.com'], ['MAIL.example.com', '*.example.com', 'example.com'])).toEqual([
      'example.com',
    ]);
  });

  it('accepts a pair that belongs together and covers the names', () => {
    const pair = makePair(['mail.example.com', '*.example.com']);
    const { facts, problems } = checkPair(pair, ['mail.example.com', 'x.example.com'], new Date());
    expect(problems).toEqual([]);
    expect(facts?.issuer).toBe('Test CA');
    expect(facts?.names).toEqual(['mail.example.com', '*.example.com']);
  });

  it('names every problem of a pair that must not be installed', () => {
    const pair = makePair(['mail.example.com']);
    const reversed = pair.fullchain
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!
      .reverse()
      .join('');
    const { problems } = checkPair(
      { fullchain: reversed, privkey: pair.otherKey },
      ['mail.example.com', 'example.com'],
      new Date(Date.now() + 40 * 86_400_000)
    );
    expect(problems).toEqual([
      'certificate 1 of the chain is not signed by certificate 2',
      expect.stringMatching(/^the certificate expired on /),
      'the certificate does not cover mail.example.com, example.com (it has no DNS names)',
    ]);
    expect(checkPair({ fullchain: pair.fullchain, privkey: pair.otherKey }, ['mail.example.com'], new Date()).problems).toEqual([
      'the private key does not belong to the certificate',
    ]);
    expect(checkPair({ fullchain: 'nothing', privkey: pair.privkey }, [], new Date()).problems).toEqual([
      'the certificate file holds no certificate',
    ]);
  });

  it('says of an installed pair which file is wrong: a key that does not belong, a missing file, a chain out of order', () => {
    const pair = makePair(['mail.example.com']);
    expect(installedPairProblems('certs/mail.example.com', pair).problems).toEqual([]);
    expect(installedPairProblems('certs/mail.example.com', { ...pair, privkey: pair.otherKey }).problems).toEqual([
      'certs/mail.example.com/privkey.pem does not belong to the certificate in certs/mail.example.com/fullchain.pem',
    ]);
    expect(installedPairProblems('certs/m', { fullchain: pair.fullchain, privkey: undefined })).toMatchObject({
      problems: ['certs/m/privkey.pem is missing'],
      facts: { names: ['mail.example.com'] },
    });
    const reversed = pair.fullchain
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!
      .reverse()
      .join('');
    expect(installedPairProblems('certs/m', { fullchain: reversed, privkey: pair.privkey }, ['mail.example.com']).problems).toEqual([
      'certs/m/privkey.pem does not belong to the certificate in certs/m/fullchain.pem',
      'certs/m/fullchain.pem: certificate 1 of the chain is not signed by certificate 2',
      'certs/m/fullchain.pem does not cover mail.example.com (it has no DNS names)',
    ]);
    // An expired pair still matches: its dates are judged elsewhere (days left, renewal).
    expect(pairMismatch(makePair(['old.example.com'], 1)).problems).toEqual([]);
  });
});
