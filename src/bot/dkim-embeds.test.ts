import { describe, expect, it } from 'vitest';
import type { DkimShowResult } from '../ops/dkim-show.ts';
import { rotationEmbed, selectorsEmbed } from './dkim-embeds.ts';
import { colours } from './render.ts';

const record = `v=DKIM1; k=rsa; p=${'A'.repeat(392)}`;

describe('the dkim-rotate embed', () => {
  it('shows the new selector, its state and the record to publish split into 255-byte strings', () => {
    const embed = rotationEmbed({
      domain: 'example.com',
      selector: '20250601',
      record,
      published: true,
      active: true,
      algorithm: 'rsa2048',
      layout: 'builtin',
      verified: true,
      verification: 's=20250601 pass',
      retiring: [{ selector: '20250101', after: '2025-06-08T00:00:00.000Z' }],
    });
    expect(embed.title).toBe('New DKIM key for example.com: 20250601');
    expect(embed.color).toBe(colours.ok);
    expect(embed.fields?.find((field) => field.name === 'Old keys')?.value).toBe(
      '20250101: stays published and signing until <t:1749340800:f>, then `dkim-retire` removes it'
    );
    expect(embed.fields?.find((field) => field.name === 'Record')?.value).toBe(
      `\`\`\`\n20250601._domainkey.example.com. 3600 IN TXT "${record.slice(0, 255)}" "${record.slice(255)}"\n\`\`\``
    );
  });
});

describe('the dkim-show embed', () => {
  const show = (selectors: DkimShowResult['selectors']): DkimShowResult => ({
    domain: 'example.com',
    layout: 'hook',
    selectors,
    orphans: [],
  });

  it('is green when every key is published, and lists each with its state', () => {
    const embed = selectorsEmbed(
      show([
        { selector: 's2', record, published: true, active: true },
        { selector: 's1', record, published: true, active: false, retireAfter: '2025-06-08T00:00:00.000Z' },
      ]),
      new Date('2025-06-01T00:00:00Z')
    );
    expect(embed.color).toBe(colours.ok);
    expect(embed.fields?.map((field) => field.name)).toEqual(['✅ s2 (active)', '✅ s1 (not signing, retiring)']);
    expect(embed.fields?.[1]?.value).toMatch(
      /^Published: yes, at every authoritative name server\nRetires after <t:1749340800:f>\n```\ns1\._domainkey/
    );
    expect(embed.footer?.text).toContain('post-data hook');
  });

  it('says an old key retires after a date still ahead, and is due for retirement once that date has passed', () => {
    const selectors = show([{ selector: 's1', record, published: true, active: false, retireAfter: '2025-06-08T00:00:00.000Z' }]);
    expect(selectorsEmbed(selectors, new Date('2025-06-01T00:00:00Z')).fields?.[0]?.value).toContain('Retires after <t:1749340800:f>');
    const late = selectorsEmbed(selectors, new Date('2025-06-09T00:00:00Z')).fields?.[0]?.value;
    expect(late).toContain('Due for retirement since <t:1749340800:f>: the dkim-retire job removes it within the hour');
    expect(late).not.toMatch(/Retire[sd] after/);
  });

  it('is red when the key chasquid signs with is not published, yellow when only an old one is missing', () => {
    expect(selectorsEmbed(show([{ selector: 's2', record, published: false, active: true }])).color).toBe(colours.fail);
    expect(
      selectorsEmbed(
        show([
          { selector: 's2', record, published: true, active: true },
          { selector: 's1', record, published: false, active: false },
        ])
      ).color
    ).toBe(colours.warn);
  });
});
