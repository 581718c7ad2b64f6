import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../../ops/check.ts';
import { renderCheckReport } from './check.ts';

const report: CheckReport = {
  domain: 'example.com',
  ok: false,
  worst: 'fail',
  hostname: 'mail.example.com',
  summary: 'Gmail: unknown',
  requirements: { gmail: { met: false, missing: ['SPF'] }, yahoo: { met: false, missing: ['SPF'] }, outlook: { met: false, missing: ['SPF'] } },
  checks: [
    { id: 'mx', status: 'pass', summary: 'MX 10 mail.example.com.' },
    { id: 'spf', status: 'fail', temperror: true, summary: 'could not be checked (temperror): DNS timed out', fix: 'Make sure the name servers answer.' },
    { id: 'dmarc', status: 'fail', summary: 'no DMARC record', fix: '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=none"' },
  ],
};

describe('the check report in a terminal', () => {
  it('labels a check that could not look something up TEMP, and a real failure FAIL', () => {
    const lines = renderCheckReport(report).split('\n');
    expect(lines.find((line) => line.includes(' spf '))).toMatch(/^TEMP {2}spf/);
    expect(lines.find((line) => line.includes(' dmarc '))).toMatch(/^FAIL {2}dmarc/);
  });
});
