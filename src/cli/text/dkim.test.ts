import { describe, expect, it } from 'vitest';
import type { DkimShowResult } from '../../ops/dkim-show.ts';
import { renderSelectors } from './dkim.ts';

const result: DkimShowResult = {
  domain: 'example.com',
  layout: 'builtin',
  orphans: [],
  selectors: [
    { selector: 's1', record: 'v=DKIM1; k=rsa; p=AAAA', published: true, active: false, retireAfter: '2025-06-08T00:00:00.000Z' },
  ],
};

describe('dkim-show in a terminal', () => {
  it('says an old key retires after a date still ahead (not "retired")', () => {
    const text = renderSelectors(result, new Date('2025-06-01T00:00:00Z'));
    expect(text).toMatch(/^Selector +s1, retires after 2025-06-08T00:00:00.000Z$/m);
    expect(text).not.toContain('retired');
  });

  it('says it is due for retirement once the date has passed', () => {
    expect(renderSelectors(result, new Date('2025-06-09T00:00:00Z'))).toContain(
      's1, due for retirement since 2025-06-08T00:00:00.000Z (the dkim-retire job removes it within the hour)'
    );
  });
});
