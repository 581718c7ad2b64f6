import { describe, expect, it } from 'vitest';
import { manualBatchStep } from './manual.ts';

describe('publishing by hand, several records at once', () => {
  it('shows a CAA record as a zone-file line and as the three fields a DNS panel asks for', () => {
    const step = manualBatchStep([
      { action: 'add', record: { name: 'example.test', type: 'CAA', value: '0 issue "letsencrypt.org"', ttl: 3600 } },
      { action: 'add', record: { name: 'example.test', value: 'v=spf1 mx -all', ttl: 3600 } },
    ]);
    expect(step.zoneLine).toBe('example.test. 3600 IN CAA 0 issue "letsencrypt.org"\nexample.test. 3600 IN TXT "v=spf1 mx -all"');
    expect(step.panelValue).toBe(
      'add: name example.test, type CAA, flags 0, tag issue, value letsencrypt.org\nadd: name example.test, type TXT, value "v=spf1 mx -all"'
    );
  });
});
