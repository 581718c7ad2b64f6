import { describe, expect, it } from 'vitest';
import { tlsReportJson } from '../../test/reports/fixtures.ts';
import { ReportFormatError } from './format-error.ts';
import { defaultReportLimits } from './limits.ts';
import { parseTlsReport } from './tls-json.ts';

/** The example report of RFC 8460 section 4.8, trimmed to the fields mailops reads plus a few it ignores. */
const rfcExample = {
  'organization-name': 'Company-X',
  'date-range': { 'start-datetime': '2016-04-01T00:00:00Z', 'end-datetime': '2016-04-01T23:59:59Z' },
  'contact-info': 'sts-reporting@company-x.example',
  'report-id': '5065427c-23d3-47ca-b6e0-946ea0e8c4be',
  policies: [
    {
      policy: {
        'policy-type': 'sts',
        'policy-string': ['version: STSv1', 'mode: testing', 'mx: *.mail.company-y.example', 'max_age: 86400'],
        'policy-domain': 'company-y.example',
        'mx-host': ['*.mail.company-y.example'],
      },
      summary: { 'total-successful-session-count': 5326, 'total-failure-session-count': 303 },
      'failure-details': [
        {
          'result-type': 'certificate-expired',
          'sending-mta-ip': '2001:db8:abcd:0012::1',
          'receiving-mx-hostname': 'mx1.mail.company-y.example',
          'failed-session-count': 100,
        },
        {
          'result-type': 'starttls-not-supported',
          'sending-mta-ip': '2001:db8:abcd:0013::1',
          'receiving-mx-hostname': 'mx2.mail.company-y.example',
          'receiving-ip': '203.0.113.56',
          'failed-session-count': 200,
          'additional-information': 'https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported',
        },
        {
          'result-type': 'validation-failure',
          'sending-mta-ip': '198.51.100.62',
          'receiving-ip': '203.0.113.58',
          'receiving-mx-hostname': 'mx-backup.mail.company-y.example',
          'failed-session-count': 3,
          'failure-reason-code': 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED',
        },
      ],
    },
  ],
};

function refusal(json: unknown, limits = defaultReportLimits): string {
  try {
    parseTlsReport(typeof json === 'string' ? json : JSON.stringify(json), limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ReportFormatError);
    return (error as Error).message;
  }
  throw new Error('expected the report to be refused, but it was read');
}

function withPolicy(change: (policy: Record<string, any>) => void): unknown {
  const copy = structuredClone(rfcExample) as any;
  change(copy.policies[0]);
  return copy;
}

describe('parseTlsReport', () => {
  it('reads the RFC 8460 example report', () => {
    expect(parseTlsReport(JSON.stringify(rfcExample))).toEqual({
      kind: 'tlsrpt',
      orgName: 'Company-X',
      reportId: '5065427c-23d3-47ca-b6e0-946ea0e8c4be',
      contact: 'sts-reporting@company-x.example',
      begin: new Date('2016-04-01T00:00:00Z'),
      end: new Date('2016-04-01T23:59:59Z'),
      policies: [
        {
          policyType: 'sts',
          policyDomain: 'company-y.example',
          success: 5326,
          failure: 303,
          failures: [
            {
              resultType: 'certificate-expired',
              sendingMtaIp: '2001:db8:abcd:0012::1',
              receivingMxHostname: 'mx1.mail.company-y.example',
              count: 100,
            },
            {
              resultType: 'starttls-not-supported',
              sendingMtaIp: '2001:db8:abcd:0013::1',
              receivingMxHostname: 'mx2.mail.company-y.example',
              count: 200,
            },
            {
              resultType: 'validation-failure',
              sendingMtaIp: '198.51.100.62',
              receivingMxHostname: 'mx-backup.mail.company-y.example',
              count: 3,
            },
          ],
        },
      ],
    });
  });

  it('reads the fixture JSON, a Buffer with a byte order mark, and a policy without failure details', () => {
    const parsed = parseTlsReport(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(tlsReportJson({ policies: [{ success: 9, failure: 0 }] }))])
    );
    expect(parsed.policies).toEqual([{ policyType: 'sts', policyDomain: 'example.org', success: 9, failure: 0, failures: [] }]);
  });

  it('refuses what is not JSON or not a report', () => {
    expect(refusal('{"organization-name": ')).toMatch(/^the TLS report is not valid JSON \(/);
    expect(refusal('[1, 2]')).toBe('the TLS report is a list, not a JSON object');
    expect(refusal({ ...rfcExample, policies: undefined })).toBe('policies is missing, not a JSON list');
  });

  it('refuses wrong types and values, naming the field', () => {
    expect(refusal({ ...rfcExample, 'organization-name': 42 })).toBe('organization-name is 42, not text');
    expect(refusal({ ...rfcExample, 'report-id': '   ' })).toBe('report-id is empty');
    expect(refusal({ ...rfcExample, 'date-range': { 'start-datetime': 'yesterday', 'end-datetime': '2016-04-01T23:59:59Z' } })).toBe(
      'date-range/start-datetime is "yesterday", not an RFC 3339 date-time'
    );
    expect(
      refusal({ ...rfcExample, 'date-range': { 'start-datetime': '2016-04-02T00:00:00Z', 'end-datetime': '2016-04-01T23:59:59Z' } })
    ).toBe('date-range/end-datetime is before date-range/start-datetime');
    expect(refusal(withPolicy((policy) => (policy.summary['total-failure-session-count'] = -1)))).toBe(
      'policies[0]/summary/total-failure-session-count is -1, not a non-negative whole number'
    );
    expect(refusal(withPolicy((policy) => (policy.summary['total-successful-session-count'] = 'many')))).toBe(
      'policies[0]/summary/total-successful-session-count is "many", not a non-negative whole number'
    );
    expect(refusal(withPolicy((policy) => (policy['failure-details'][1]['sending-mta-ip'] = 'mx.example')))).toBe(
      'policies[0]/failure-details[1]/sending-mta-ip is "mx.example", not an IPv4 or IPv6 address'
    );
    expect(refusal(withPolicy((policy) => (policy['failure-details'][0]['failed-session-count'] = 1e300)))).toMatch(
      /failed-session-count is 1e\+300, not a non-negative whole number$/
    );
  });

  it('caps policies and failure details together at the row limit', () => {
    const limits = { ...defaultReportLimits, maxRecords: 3 };
    expect(refusal(rfcExample, limits)).toBe('the TLS report has more than 3 policies and failure details together');
    expect(parseTlsReport(JSON.stringify(rfcExample), { ...defaultReportLimits, maxRecords: 4 }).policies).toHaveLength(1);
    const manyPolicies = { ...rfcExample, policies: Array.from({ length: 5 }, () => rfcExample.policies[0]) };
    expect(refusal(manyPolicies, limits)).toBe('the TLS report has 5 policies, more than the 3 accepted');
  });

  it('keeps hostile text as data, capped', () => {
    const parsed = parseTlsReport(JSON.stringify({ ...rfcExample, 'organization-name': `@everyone **x**\u0000${'y'.repeat(1000)}` }));
    expect(parsed.orgName.startsWith('@everyone **x**\u0000y')).toBe(true);
    expect(parsed.orgName.length).toBeLessThanOrEqual(256);
  });

  it('survives deeply nested JSON', () => {
    expect(refusal('['.repeat(200_000) + ']'.repeat(200_000))).toMatch(/not valid JSON|not a JSON object/);
  });
});
