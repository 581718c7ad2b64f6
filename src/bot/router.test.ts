import { describe, expect, it } from 'vitest';
import { interactionTokenLifetimeMs } from './response.ts';
import { duration, pressWaitMs } from './router.ts';

describe('how long a button offered during a command waits', () => {
  const created = Date.parse('2025-06-01T12:00:00Z');
  const expires = created + interactionTokenLifetimeMs;

  it("is the token's 15 minutes less two for putting things back and saying so", () => {
    expect(pressWaitMs(expires, created)).toBe(13 * 60_000);
    expect(pressWaitMs(expires, created + 10 * 60_000)).toBe(3 * 60_000);
  });

  it('is nothing once the token is nearly spent', () => {
    expect(pressWaitMs(expires, created + 13 * 60_000)).toBe(0);
    expect(pressWaitMs(expires, created + 14 * 60_000)).toBeLessThan(0);
  });

  it('never exceeds a configured limit', () => {
    expect(pressWaitMs(expires, created, 6000)).toBe(6000);
  });
});

describe('durations for people', () => {
  it('says seconds up to a minute and a half, minutes beyond', () => {
    expect(duration(6000)).toBe('6 seconds');
    expect(duration(89_000)).toBe('89 seconds');
    expect(duration(13 * 60_000)).toBe('13 minutes');
  });
});
