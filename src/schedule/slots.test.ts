import { describe, expect, it } from 'vitest';
import { latestSlot } from './slots.ts';

describe('latestSlot', () => {
  it('is the latest scheduled time at or before now', () => {
    const at = (text: string) => new Date(text);
    expect(latestSlot('0 9 * * *', at('2026-03-02T10:00:00'))).toEqual(at('2026-03-02T09:00:00'));
    expect(latestSlot('0 9 * * *', at('2026-03-02T08:59:00'))).toEqual(at('2026-03-01T09:00:00'));
    expect(latestSlot('*/15 * * * *', at('2026-03-02T10:15:00'))).toEqual(at('2026-03-02T10:15:00'));
    expect(latestSlot('17 */6 * * *', at('2026-03-02T13:00:00'))).toEqual(at('2026-03-02T12:17:00'));
  });

  it('is undefined for an expression it cannot read', () => {
    expect(latestSlot('not cron', new Date())).toBeUndefined();
  });
});
