import { describe, expect, it } from 'vitest';
import type { CertificateFacts } from './certificate.ts';
import { ariId, decideRenewal, parseRenewalInfo } from './renewal.ts';

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

  it('ignores an answer that is not a renewal window', () => {
    expect(parseRenewalInfo({})).toBeUndefined();
    expect(parseRenewalInfo({ suggestedWindow: { start: '2026-01-12T00:00:00Z', end: '2026-01-10T00:00:00Z' } })).toBeUndefined();
  });
});
