import { describe, expect, it } from 'vitest';
import { changeNotes, fitEmbeds, inlineCode } from './render.ts';

describe('fitEmbeds', () => {
  it('leaves small embeds as they are', () => {
    const embed = { title: 'Senders', description: 'a@example.com', fields: [{ name: 'x', value: 'y' }] };
    expect(fitEmbeds([embed])).toEqual([embed]);
  });

  it('cuts long texts and drops fields past 25 and past 6000 characters in all', () => {
    const fields = Array.from({ length: 40 }, (_, index) => ({ name: `field ${index}`, value: 'v'.repeat(1500) }));
    const [embed] = fitEmbeds([{ title: 't'.repeat(300), description: 'd'.repeat(5000), fields }]);
    expect(embed?.title).toHaveLength(256);
    expect(embed?.title?.endsWith('…')).toBe(true);
    expect(embed?.fields?.every((field) => field.value.length === 1024)).toBe(true);
    const total =
      (embed?.title?.length ?? 0) +
      (embed?.description?.length ?? 0) +
      (embed?.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
    expect(embed?.fields?.length).toBeLessThan(25);
  });

  it('drops whole embeds that no longer fit', () => {
    const big = { description: 'd'.repeat(4096) };
    expect(fitEmbeds([big, big, big])).toHaveLength(2);
  });
});

describe('changeNotes', () => {
  it('says when the change is live, and what else happened', () => {
    expect(changeNotes({ restarted: false, repaired: [] })).toBe('chasquid picks up the change within 30 seconds.');
    expect(
      changeNotes({
        restarted: true,
        restartReason: 'to load the new domain',
        repaired: ['users file owner'],
        warnings: ['x is also a sender'],
      })
    ).toBe(
      'chasquid was restarted (to load the new domain).\nRepaired so that chasquid can read it: users file owner\n⚠️ x is also a sender\nchasquid picks up the change within 30 seconds.'
    );
  });
});

describe('inlineCode', () => {
  it('keeps any text inside one code span', () => {
    expect(inlineCode('*@example.com')).toBe('`*@example.com`');
    expect(inlineCode('a`b\n<@1>')).toBe("`a'b\\n<@1>`");
  });
});
