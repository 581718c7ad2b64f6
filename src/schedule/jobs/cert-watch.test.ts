import { describe, expect, it } from 'vitest';
import { escalationLevel, retryDelay } from './cert-watch.ts';

const day = 24 * 60 * 60 * 1000;
const now = new Date('2026-03-01T00:00:00Z');
const certificate = (daysLeft: number, lifetimeDays = 90) => ({
  notBefore: new Date(now.getTime() - (lifetimeDays - daysLeft) * day).toISOString(),
  notAfter: new Date(now.getTime() + daysLeft * day).toISOString(),
});

describe('escalationLevel', () => {
  it('is 0 with more than a third of the lifetime left, 1 under a third, 2 under 7 days or without a certificate', () => {
    expect(escalationLevel(certificate(40), now)).toBe(0);
    expect(escalationLevel(certificate(29), now)).toBe(1);
    expect(escalationLevel(certificate(6.9), now)).toBe(2);
    expect(escalationLevel(certificate(-1), now)).toBe(2);
    expect(escalationLevel(undefined, now)).toBe(2);
    // A 45-day certificate: a third is 15 days.
    expect(escalationLevel(certificate(16, 45), now)).toBe(0);
    expect(escalationLevel(certificate(14, 45), now)).toBe(1);
  });
});

describe('retryDelay', () => {
  it('starts at the first pause, doubles, and stops growing at the maximum', () => {
    const minute = 60_000;
    expect([1, 2, 3, 4, 5, 6, 7].map((attempts) => retryDelay(attempts, 10 * minute, 180 * minute) / minute)).toEqual([
      10, 20, 40, 80, 160, 180, 180,
    ]);
  });
});
