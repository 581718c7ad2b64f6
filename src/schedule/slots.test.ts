import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { latestSlot, nextSlot, ScheduleError } from './slots.ts';

const at = (text: string) => new Date(text);

describe('latestSlot and nextSlot', () => {
  it('the latest scheduled time at or before now, and the first one after a time', () => {
    expect(latestSlot('0 9 * * *', at('2026-03-02T10:00:00'))).toEqual(at('2026-03-02T09:00:00'));
    expect(latestSlot('0 9 * * *', at('2026-03-02T08:59:00'))).toEqual(at('2026-03-01T09:00:00'));
    expect(latestSlot('*/15 * * * *', at('2026-03-02T10:15:00'))).toEqual(at('2026-03-02T10:15:00'));
    expect(latestSlot('17 */6 * * *', at('2026-03-02T13:00:00'))).toEqual(at('2026-03-02T12:17:00'));
    expect(nextSlot('0 9 * * *', at('2026-03-02T08:59:59.999'))).toEqual(at('2026-03-02T09:00:00'));
    // A slot is never followed by itself: the scheduler moves on from the one it just ran.
    expect(nextSlot('0 9 * * *', at('2026-03-02T09:00:00'))).toEqual(at('2026-03-03T09:00:00'));
    expect(nextSlot('30 * * * * *', at('2026-03-02T09:00:10'))).toEqual(at('2026-03-02T09:00:30'));
  });

  it('throws, naming the schedule and the reason, when it cannot say: catch-up never stops in silence', () => {
    for (const expression of ['not cron', '', '0 0 30 2 *', 'H 9 * * *']) {
      expect(() => latestSlot(expression, new Date())).toThrow(ScheduleError);
      expect(() => nextSlot(expression, new Date())).toThrow(ScheduleError);
    }
    expect(() => latestSlot('0 0 30 2 *', new Date())).toThrow(
      'The schedule "0 0 30 2 *" cannot be followed: Invalid explicit day of month definition.'
    );
  });
});

describe('a CRON_* setting the configuration accepts', () => {
  // Expressions the two libraries used before disagreed on (an empty one, H, L, #, a sixth field), and ordinary ones.
  const expressions = [
    '0 9 * * *',
    '*/15 * * * *',
    '17 */6 * * *',
    '0 0 1 1 *',
    '30 0 9 * * *',
    '@daily',
    '0 9 L * *',
    '0 9 * * 1#2',
    '0 0 29 2 *',
    '0 9 * * mon',
    '',
    ' ',
    'H 9 * * *',
    '0 0 30 2 *',
    '61 * * * *',
    'every day',
    '0 9 * * * * *',
  ];
  const accepted = (expression: string) => {
    try {
      parseConfig({ CRON_HEALTH: expression });
      return true;
    } catch {
      return false;
    }
  };

  it('is exactly one the scheduler can compute slots for', () => {
    // cron-parser alone would read "" as every minute; the setting refuses it (a .env's `CRON_HEALTH=` is unset anyway).
    expect(expressions.filter(accepted)).toEqual([
      '0 9 * * *',
      '*/15 * * * *',
      '17 */6 * * *',
      '0 0 1 1 *',
      '30 0 9 * * *',
      '@daily',
      '0 9 L * *',
      '0 9 * * 1#2',
      '0 0 29 2 *',
      '0 9 * * mon',
    ]);
  });

  it('produces slots at any time: the latest at or before it, and a later one', () => {
    const times = [
      '2026-01-01T00:00:00',
      '2026-02-28T23:59:59.999',
      '2026-03-29T02:30:00',
      '2027-12-31T12:00:00',
      '2028-02-29T09:00:00',
    ].map(at);
    for (const expression of expressions.filter(accepted)) {
      const { CRON_HEALTH: schedule } = parseConfig({ CRON_HEALTH: expression });
      for (const now of times) {
        const latest = latestSlot(schedule, now);
        const next = nextSlot(schedule, now);
        expect({ expression, now, latestIsPast: latest <= now, nextIsLater: next > now }).toEqual({
          expression,
          now,
          latestIsPast: true,
          nextIsLater: true,
        });
        expect(nextSlot(schedule, latest) <= next).toBe(true);
      }
    }
    for (const expression of expressions.filter((expression) => !accepted(expression))) {
      expect(() => latestSlot(expression, new Date())).toThrow(ScheduleError);
    }
  });
});
