import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint, hostKeyAlgorithms, knownHostsName, parseKnownHosts, verifyHostKey } from './known-hosts.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-known-hosts-'));

/** A real key pair from ssh-keygen; returns the public key line's type and base64 blob. */
function newKey(name: string, type = 'ed25519'): { type: string; base64: string; blob: Buffer } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
  const [keyType, base64] = readFileSync(`${file}.pub`, 'utf8').trim().split(' ') as [string, string];
  return { type: keyType, base64, blob: Buffer.from(base64, 'base64') };
}

const mail = newKey('mail');
const other = newKey('other');
const rsa = newKey('rsa', 'rsa');

describe('known_hosts', () => {
  it('names a host on port 22 plainly and others as [host]:port', () => {
    expect(knownHostsName('Mail.Example.com', 22)).toBe('mail.example.com');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('trusts the listed key for a plain entry with a port', () => {
    const entries = parseKnownHosts(`# comment\n\n[mail.example.com]:2222 ${mail.type} ${mail.base64} root@mail\n`);
    expect(verifyHostKey(entries, '[mail.example.com]:2222', mail.blob)).toEqual({ status: 'trusted' });
  });

  it('does not apply a port-22 entry to another port', () => {
    const entries = parseKnownHosts(`mail.example.com ${mail.type} ${mail.base64}\n`);
    expect(verifyHostKey(entries, '[mail.example.com]:2222', mail.blob)).toEqual({ status: 'unknown' });
  });

  it('refuses a changed key and names the known fingerprint', () => {
    const entries = parseKnownHosts(`mail.example.com,192.0.2.1 ${mail.type} ${mail.base64}\n`);
    const verdict = verifyHostKey(entries, 'mail.example.com', other.blob);
    expect(verdict.status).toBe('changed');
    expect(verdict).toHaveProperty('knownFingerprints', [`${mail.type} ${fingerprint(mail.blob)}`]);
  });

  it('reads entries hashed by ssh-keygen -H', () => {
    const file = path.join(dir, 'hashed_known_hosts');
    writeFileSync(file, `[mail.example.com]:2222 ${mail.type} ${mail.base64}\nother.example.com ${other.type} ${other.base64}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('mail.example.com');
    const entries = parseKnownHosts(text);
    expect(verifyHostKey(entries, '[mail.example.com]:2222', mail.blob)).toEqual({ status: 'trusted' });
    expect(verifyHostKey(entries, 'other.example.com', other.blob)).toEqual({ status: 'trusted' });
    expect(verifyHostKey(entries, '[mail.example.com]:2222', other.blob).status).toBe('changed');
    expect(verifyHostKey(entries, 'third.example.com', mail.blob).status).toBe('unknown');
  });

  it('honours wildcards and negations', () => {
    const entries = parseKnownHosts(`*.example.com,!evil.example.com ${mail.type} ${mail.base64}\n`);
    expect(verifyHostKey(entries, 'mail.example.com', mail.blob).status).toBe('trusted');
    expect(verifyHostKey(entries, 'evil.example.com', mail.blob).status).toBe('unknown');
  });

  it('refuses a revoked key even when another line lists it', () => {
    const entries = parseKnownHosts(`mail.example.com ${mail.type} ${mail.base64}\n@revoked * ${mail.type} ${mail.base64}\n`);
    expect(verifyHostKey(entries, 'mail.example.com', mail.blob).status).toBe('revoked');
  });

  it('never lets a @cert-authority line vouch for a plain key', () => {
    const entries = parseKnownHosts(`@cert-authority mail.example.com ${mail.type} ${mail.base64}\n`);
    expect(verifyHostKey(entries, 'mail.example.com', mail.blob).status).toBe('unknown');
  });

  it('skips lines whose key does not match its type', () => {
    expect(parseKnownHosts(`mail.example.com ssh-rsa ${mail.base64}\n`)).toEqual([]);
  });

  it('prints fingerprints as ssh-keygen -l does', () => {
    const printed = execFileSync('ssh-keygen', ['-lf', path.join(dir, 'mail.pub')], { encoding: 'utf8' });
    expect(printed).toContain(fingerprint(mail.blob));
  });

  it('asks the server for the key types it knows, RSA with SHA-2 first', () => {
    const entries = parseKnownHosts(`h ${rsa.type} ${rsa.base64}\nh ${mail.type} ${mail.base64}\n`);
    expect(hostKeyAlgorithms(entries, 'h')).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
  });
});
