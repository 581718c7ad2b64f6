import { describe, expect, it } from 'vitest';
import { reportsText } from '../cli/text/reports.ts';
import type { ReportsResult } from '../ops/reports.ts';
import { reportsEmbeds } from './reports-embed.ts';

// What reporters and remote servers write is anyone's text: it must reach Discord and terminals as data.
const hostile = 'evil` **[click](https://evil.example)** @everyone <@&1> \u001b[31mred\n```';

const result: ReportsResult = {
  since: '2026-11-24T00:00:00.000Z',
  stuck: 1,
  passRateMin: 0.9,
  domains: [
    {
      domain: 'example.test',
      since: '2026-11-24T00:00:00.000Z',
      dmarc: {
        reports: 1,
        messages: 5,
        passRate: 0.6,
        reporters: [{ org: hostile, messages: 5, passed: 3 }],
        sources: [{ ip: '198.51.100.7', ptr: hostile, ours: false, messages: 2, dkimAligned: 0, spfAligned: 0 }],
      },
      tlsrpt: { reports: 1, success: 3, failure: 1, failures: [{ type: hostile, count: 1 }] },
      delivery: {
        sent: 0,
        failedTemporary: 0,
        failedPermanent: 1,
        permanent: [{ recipient: 'x@gmail.com', reply: hostile, at: '2026-11-30T00:00:00.000Z' }],
      },
    },
  ],
};

describe('reports as embeds and text', () => {
  it('shows reporters, reverse names, failure types and replies as inline code in Discord', () => {
    const [embed] = reportsEmbeds(result);
    const text = JSON.stringify(embed);
    expect(text).toContain('60%');
    // Outside inline code (the even pieces between backticks) nothing of the hostile text is left to render.
    const fields = embed?.fields ?? [];
    expect(fields.length).toBeGreaterThan(2);
    for (const field of fields) {
      const outside = field.value.split('`').filter((_piece, index) => index % 2 === 0);
      for (const piece of outside) expect(piece).not.toMatch(/click|everyone|<@&|red|evil/);
    }
    expect(fields.map((field) => field.value).join('\n')).toContain('click');
    expect(embed?.footer?.text).toContain('1 message(s) stuck');
  });

  it('escapes control characters in the terminal', () => {
    const text = reportsText(result);
    expect(text).not.toContain('\u001b');
    expect(text).toContain('\\u001b[31mred');
    expect(text).toContain('pass rate 60%');
    expect(text).toContain('198.51.100.7');
  });
});
