import { describe, expect, it } from 'vitest';
import type { CertificateFacts } from './certificate.ts';
import { retryAfterMs } from './client.ts';
import { ariId, decideRenewal, parseRenewalInfo, randomTimeInWindow } from './renewal.ts';

const facts = (notBefore: string, notAfter: string): CertificateFacts => ({
  names: ['mail.example.com'],
  issuer: 'R1',
  notBefore: new Date(notBefore),
  notAfter: new Date(notAfter),
  fingerprint: 'AA',
  serialNumber: '0123AB',
});

describe('renewal', () => {
  it("builds the ARI identifier of RFC 9773's example", () => {
    expect(ariId('69885B6B87464041E1B37B847BA0AE2CDE01C8D4', '87654321')).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it('is due once less than a third of the lifetime is left', () => {
    const ninetyDays = facts('2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z');
    expect(decideRenewal(ninetyDays, new Date('2026-03-01T00:00:00Z'))).toMatchObject({ due: false, source: 'lifetime' });
    expect(decideRenewal(ninetyDays, new Date('2026-03-02T01:00:00Z'))).toMatchObject({ due: true, source: 'lifetime' });
    const fortyFiveDays = facts('2026-01-01T00:00:00Z', '2026-02-15T00:00:00Z');
    expect(decideRenewal(fortyFiveDays, new Date('2026-01-30T00:00:00Z')).due).toBe(false);
    expect(decideRenewal(fortyFiveDays, new Date('2026-01-31T01:00:00Z')).due).toBe(true);
  });

  it("follows the CA's window when there is one, at a point fixed for the certificate", () => {
    const certificate = facts('2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z');
    const window = parseRenewalInfo({ suggestedWindow: { start: '2026-01-10T00:00:00Z', end: '2026-01-12T00:00:00Z' } });
    expect(window).toBeDefined();
    const decision = decideRenewal(certificate, new Date('2026-01-09T00:00:00Z'), window);
    expect(decision).toMatchObject({ due: false, source: 'ari' });
    expect(decision.dueAt.getTime()).toBeGreaterThanOrEqual(window!.start.getTime());
    expect(decision.dueAt.getTime()).toBeLessThanOrEqual(window!.end.getTime());
    expect(decideRenewal(certificate, new Date('2026-01-09T00:00:00Z'), window).dueAt).toEqual(decision.dueAt);
    expect(decideRenewal(certificate, new Date('2026-01-12T00:00:00Z'), window).due).toBe(true);
  });

  it('renews at the time chosen at random in the window, and says when the CA asks for early renewal', () => {
    const certificate = facts('2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z');
    const window = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-03T00:00:00Z') };
    expect(randomTimeInWindow(window, () => 0)).toEqual(window.start);
    expect(randomTimeInWindow(window, () => 0.5)).toEqual(new Date('2026-03-02T00:00:00Z'));
    const renewAt = new Date('2026-03-02T06:00:00Z');
    expect(decideRenewal(certificate, new Date('2026-03-02T05:59:59Z'), { ...window, renewAt }).due).toBe(false);
    const usual = decideRenewal(certificate, renewAt, { ...window, renewAt });
    expect(usual).toMatchObject({ due: true, source: 'ari', dueAt: renewAt });
    expect(usual.reason).not.toContain('early');
    // A window that ends before a third of the lifetime is left (here: after a revocation, on 10 January).
    const revoked = {
      start: new Date('2026-01-10T00:00:00Z'),
      end: new Date('2026-01-10T00:05:00Z'),
      renewAt: new Date('2026-01-10T00:01:00Z'),
    };
    const early = decideRenewal(certificate, new Date('2026-01-10T00:02:00Z'), revoked);
    expect(early.due).toBe(true);
    expect(early.reason).toMatch(/^the CA asked for early renewal: its renewal window \(ARI\) opened on 2026-01-10T00:00:00.000Z/);
  });

  it("waits as long as the CA's Retry-After says, between a minute and a day, six hours without one", () => {
    expect(retryAfterMs('21600')).toBe(6 * 60 * 60 * 1000);
    expect(retryAfterMs('5')).toBe(60 * 1000);
    expect(retryAfterMs('604800')).toBe(24 * 60 * 60 * 1000);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:30:00 GMT', Date.parse('2026-10-21T07:00:00Z'))).toBe(30 * 60 * 1000);
    expect(retryAfterMs(undefined)).toBe(6 * 60 * 60 * 1000);
    expect(retryAfterMs('soon')).toBe(6 * 60 * 60 * 1000);
  });

  it('ignores an answer that is not a renewal window', () => {
    expect(parseRenewalInfo({})).toBeUndefined();
    expect(parseRenewalInfo({ suggestedWindow: { start: '2026-01-12T00:00:00Z', end: '2026-01-10T00:00:00Z' } })).toBeUndefined();
  });
});
