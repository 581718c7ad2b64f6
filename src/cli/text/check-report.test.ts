import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../../ops/check.ts';
import { renderCheckReport } from './check-report.ts';

const report: CheckReport = {
  domain: 'example.com',
  ok: false,
  worst: 'fail',
  hostname: 'mail.example.com',
  summary: 'Gmail: unknown',
  requirements: {
    gmail: { status: 'not-met', met: false, missing: ['SPF'], unknown: [] },
    yahoo: { status: 'not-met', met: false, missing: ['SPF'], unknown: [] },
    outlook: { status: 'not-met', met: false, missing: ['SPF'], unknown: [] },
  },
  checks: [
    { id: 'mx', status: 'pass', summary: 'MX 10 mail.example.com.' },
    {
      id: 'spf',
      status: 'fail',
      temperror: true,
      summary: 'could not be checked (temperror): DNS timed out',
      fix: 'Make sure the name servers answer.',
    },
    { id: 'dmarc', status: 'fail', summary: 'no DMARC record', fix: '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=none"' },
  ],
};

describe('the check report in a terminal', () => {
  it('labels a check that could not look something up TEMP, and a real failure FAIL', () => {
    const lines = renderCheckReport(report).split('\n');
    expect(lines.find((line) => line.includes(' spf '))).toMatch(/^TEMP {2}spf/);
    expect(lines.find((line) => line.includes(' dmarc '))).toMatch(/^FAIL {2}dmarc/);
  });

  it('says once that the mail host could not be reached, shows the DNS-only checks, and one line for the checks that need the host', () => {
    const needsHost = (id: 'mx' | 'spf' | 'tls' | 'e2e') => ({
      id,
      status: 'fail' as const,
      temperror: true,
      needsHost: true,
      summary: 'could not be checked (temperror): it needs the mail host, which could not be reached',
      fix: 'Make the mail host reachable.',
    });
    const text = renderCheckReport({
      ...report,
      hostname: undefined,
      summary: 'Gmail: unknown (SPF, DKIM, reverse DNS, TLS could not be checked)',
      hostError: {
        code: 'host-unreachable',
        message: 'Cannot connect to the mail host 127.0.0.1:1: connect ECONNREFUSED.',
        hint: 'Check MAIL_HOST.',
        reachable: false,
      },
      checks: [{ id: 'dmarc', status: 'pass', summary: 'p=reject' }, needsHost('mx'), needsHost('spf'), needsHost('tls'), needsHost('e2e')],
    });
    expect(text.match(/ECONNREFUSED/g)).toHaveLength(1);
    expect(text).toMatch(/^PASS {2}dmarc {2}p=reject$/m);
    expect(text).toContain('Unknown, because they need the mail host: mx, spf, tls, e2e.');
    expect(text).not.toMatch(/^(FAIL|TEMP) /m);
    expect(text).toContain('FAILED: 4 unknown, 1 pass');
  });

  it('names an internationalised domain in both forms', () => {
    expect(renderCheckReport({ ...report, domain: 'xn--bcher-kva.example' }).split('\n')[0]).toBe(
      'Deliverability of bücher.example (xn--bcher-kva.example), mail host mail.example.com'
    );
  });
});
