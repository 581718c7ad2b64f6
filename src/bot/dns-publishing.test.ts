import { describe, expect, it } from 'vitest';
import { dkimRecordName, generateDkimKey } from '../chasquid/dkim-key.ts';
import { manualStep } from '../dns/manual.ts';
import { manualPrompt } from './dns-publishing.ts';

describe('the prompt for a record published by hand', () => {
  // Discord refuses a message of more than 2000 characters; the router adds a footer line of about 90.
  it('fits in one Discord message with the largest DKIM key mailops makes, and shows the record to copy as code', () => {
    const { record: value } = generateDkimKey('rsa3072', 'builtin');
    const record = { name: dkimRecordName('20250601b', 'a-rather-long-subdomain.example-company.co.uk'), value, ttl: 3600 };
    const prompt = manualPrompt(manualStep('add', record));
    expect(prompt.text.length).toBeLessThan(1850);
    expect(prompt.button).toBe('Published');
    expect(prompt.text).toContain(`\`\`\`\n${manualStep('add', record).zoneLine}\n\`\`\``);
    expect(prompt.text).toContain(`\`\`\`\n${manualStep('add', record).panelValue}\n\`\`\``);
  });

  it('asks for a removal with a Removed button', () => {
    const prompt = manualPrompt(manualStep('remove', { name: '_acme-challenge.mail.example.com', value: 'x'.repeat(43), ttl: 60 }));
    expect(prompt.button).toBe('Removed');
    expect(prompt.text).toMatch(/^📝 \*\*Remove this TXT record from the DNS of _acme-challenge\.mail\.example\.com/);
  });
});
