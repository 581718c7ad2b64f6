import { describe, expect, it } from 'vitest';
import { dmarcXml } from '../../test/reports/fixtures.ts';
import { parseDmarcXml, ReportFormatError } from './dmarc-xml.ts';
import { defaultReportLimits } from './limits.ts';
import { maxTextLength } from './report-values.ts';

/** A minimal RFC 7489 report around the given <record> elements (and metadata, when given). */
function report(records: string, metadata = '<org_name>receiver.example</org_name><report_id>r1</report_id>'): string {
  return `<?xml version="1.0"?>
<feedback>
  <report_metadata>${metadata}<date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>
  <policy_published><domain>example.org</domain><p>none</p></policy_published>
  ${records}
</feedback>`;
}

function record(sourceIp = '192.0.2.1', count = '1', auth = '<dkim><domain>example.org</domain><result>pass</result></dkim>'): string {
  return `<record><row><source_ip>${sourceIp}</source_ip><count>${count}</count>
    <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>
    <identifiers><header_from>example.org</header_from></identifiers><auth_results>${auth}</auth_results></record>`;
}

function refusal(xml: string, limits = defaultReportLimits): string {
  try {
    parseDmarcXml(xml, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ReportFormatError);
    return (error as Error).message;
  }
  throw new Error('expected the XML to be refused, but it was read');
}

describe('parseDmarcXml', () => {
  it('reads one record as a list of one, and one DKIM/SPF result as a list of one', () => {
    const parsed = parseDmarcXml(report(record()));
    expect(parsed.records).toHaveLength(1);
    expect(parsed.records[0]!.dkimAuth).toEqual([{ domain: 'example.org', result: 'pass' }]);
    expect(parsed.records[0]!.spfAuth).toEqual([]);
  });

  it('reads many records and many DKIM and SPF results', () => {
    const auth =
      '<dkim><domain>a.example</domain><selector>s1</selector><result>pass</result></dkim>' +
      '<dkim><domain>b.example</domain><selector>s2</selector><result>fail</result></dkim>' +
      '<spf><domain>example.org</domain><scope>helo</scope><result>softfail</result></spf>' +
      '<spf><domain>example.org</domain><scope>mfrom</scope><result>TempError</result></spf>';
    const parsed = parseDmarcXml(report(record('192.0.2.1', '5', auth) + record('192.0.2.2', '6') + record('2001:db8::1', '7')));
    expect(parsed.records.map((row) => row.count)).toEqual([5, 6, 7]);
    expect(parsed.records[0]!.dkimAuth.map((dkim) => dkim.selector)).toEqual(['s1', 's2']);
    expect(parsed.records[0]!.spfAuth).toEqual([
      { domain: 'example.org', scope: 'helo', result: 'softfail' },
      { domain: 'example.org', scope: 'mfrom', result: 'temperror' },
    ]);
  });

  it('reads the RFC 7489 format and the dmarc-2.0 format to the same records', () => {
    const options = { domain: 'example.org', reportId: 'same' };
    const old = parseDmarcXml(dmarcXml(options, 'rfc7489'));
    const next = parseDmarcXml(dmarcXml(options, 'dmarc-2.0'));
    const core = (parsed: typeof old) =>
      parsed.records.map(({ sourceIp, count, dkim, spf, disposition }) => ({ sourceIp, count, dkim, spf, disposition }));
    expect(core(next)).toEqual(core(old));
    expect(core(old)).toHaveLength(3);
    expect(next.version).toBe('1.0');
    expect(old.version).toBeUndefined();
  });

  it('reads elements under any namespace prefix', () => {
    const xml = `<?xml version="1.0"?><d:feedback xmlns:d="urn:ietf:params:xml:ns:dmarc-2.0"><d:report_metadata><d:org_name>x</d:org_name>
      <d:report_id>1</d:report_id><d:date_range><d:begin>1</d:begin><d:end>2</d:end></d:date_range></d:report_metadata>
      <d:policy_published><d:domain>example.org</d:domain><d:p>reject</d:p></d:policy_published>
      <d:record><d:row><d:source_ip>192.0.2.1</d:source_ip><d:count>4</d:count></d:row>
      <d:identifiers><d:header_from>example.org</d:header_from></d:identifiers></d:record></d:feedback>`;
    const parsed = parseDmarcXml(xml);
    expect(parsed.policy.p).toBe('reject');
    expect(parsed.records).toEqual([
      {
        sourceIp: '192.0.2.1',
        count: 4,
        headerFrom: 'example.org',
        dkim: 'unknown',
        spf: 'unknown',
        disposition: 'unknown',
        dkimAuth: [],
        spfAuth: [],
      },
    ]);
  });

  it('adds up rows that say the same thing, and keeps rows that differ apart', () => {
    const parsed = parseDmarcXml(report(record('192.0.2.1', '5') + record('192.0.2.1', '7') + record('192.0.2.1', '1', '')));
    expect(parsed.records.map((row) => [row.sourceIp, row.count, row.dkimAuth.length])).toEqual([
      ['192.0.2.1', 12, 1],
      ['192.0.2.1', 1, 0],
    ]);
  });

  it('keeps control characters and markdown in reporter text as data, trimmed and capped', () => {
    const hostile = '**bold** @everyone `code` [link](https://evil.example) \u0007\u001b[31m';
    const long = 'x'.repeat(5000);
    const parsed = parseDmarcXml(report(record(), `<org_name>  ${hostile}&amp;&lt;  </org_name><report_id>${long}</report_id>`));
    expect(parsed.orgName).toBe(`${hostile}&<`);
    expect(parsed.reportId).toHaveLength(maxTextLength);
    expect(parsed.reportId.endsWith('…')).toBe(true);
  });

  it('reads dates from epoch seconds and refuses an end before the begin', () => {
    const parsed = parseDmarcXml(report(record()));
    expect(parsed.begin).toEqual(new Date('2023-11-14T22:13:20Z'));
    expect(parsed.end).toEqual(new Date('2023-11-15T22:13:19Z'));
    expect(refusal(report(record()).replace('<begin>1700000000</begin>', '<begin>1800000000</begin>'))).toBe(
      'date_range/end is before date_range/begin'
    );
    expect(refusal(report(record()).replace('<begin>1700000000</begin>', '<begin>yesterday</begin>'))).toBe(
      'date_range/begin is "yesterday", not a non-negative whole number'
    );
  });

  it('refuses bad values, naming the record and the field', () => {
    expect(refusal(report(record('192.0.2.300')))).toBe('record 1: source_ip is "192.0.2.300", not an IPv4 or IPv6 address');
    expect(refusal(report(record('192.0.2.1', '-3')))).toBe('record 1: count is "-3", not a non-negative whole number');
    expect(refusal(report(record('192.0.2.1', '1.5')))).toBe('record 1: count is "1.5", not a non-negative whole number');
    expect(refusal(report(record('192.0.2.1', '99999999999999999999')))).toMatch(/count is "9+", not a non-negative whole number/);
    expect(refusal(report(record(), '<report_id>r1</report_id>'))).toBe('report_metadata has no <org_name>');
    expect(refusal(report(record(), '<org_name> </org_name><report_id>r1</report_id>'))).toBe('report_metadata/org_name is empty');
    expect(refusal(report(record()).replace(/<identifiers>.*<\/identifiers>/s, ''))).toBe('the report has no record 1: identifiers');
    expect(refusal(report(record()).replace('<policy_published>', '<policy_published><pct>150</pct>'))).toBe(
      'policy_published/pct is 150, more than 100'
    );
    expect(refusal(report(record(), '<org_name><b>x</b></org_name><report_id>r1</report_id>'))).toBe(
      'report_metadata/org_name should be text, not an object'
    );
  });

  it('refuses repeated elements a report has once', () => {
    const doubled = report(record()).replace(
      '</report_metadata>',
      '</report_metadata><report_metadata><org_name>y</org_name></report_metadata>'
    );
    expect(refusal(doubled)).toBe('feedback has 2 <report_metadata> elements; a report has one');
  });

  it('refuses XML that is not a DMARC report', () => {
    expect(refusal('<?xml version="1.0"?><html><body>hi</body></html>')).toBe(
      'the XML is not a DMARC aggregate report (no <feedback> element)'
    );
    expect(refusal('not xml at all')).toMatch(/^the XML is malformed: /);
  });

  it('refuses DOCTYPE and ENTITY declarations before parsing (billion laughs, external entities)', () => {
    const external = `<?xml version="1.0"?><!DOCTYPE feedback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${report(record()).replace('<?xml version="1.0"?>', '')}`;
    expect(refusal(external)).toMatch(/^the XML declares a DOCTYPE or entities/);
    expect(refusal(report(record()).replace('<feedback>', '<!doctype feedback><feedback>'))).toMatch(/DOCTYPE/);
  });

  it('refuses more records than the limit before parsing them', () => {
    const many = report(Array.from({ length: 11 }, (_, index) => record(`192.0.2.${index + 1}`)).join(''));
    expect(refusal(many, { ...defaultReportLimits, maxRecords: 10 })).toBe('the report has 11 records, more than the 10 accepted');
    expect(parseDmarcXml(many, { ...defaultReportLimits, maxRecords: 11 }).records).toHaveLength(11);
  });

  it('refuses a record with an absurd number of auth results', () => {
    const auth = '<dkim><domain>a.example</domain><result>pass</result></dkim>'.repeat(101);
    expect(refusal(report(record('192.0.2.1', '1', auth)))).toBe('record 1 lists 101 DKIM and SPF results, more than the 100 accepted');
  });

  it('refuses deep nesting without overflowing the stack', () => {
    const deep = report(record()).replace('<policy_published>', `<policy_published><x>${'<a>'.repeat(50_000)}${'</a>'.repeat(50_000)}</x>`);
    expect(refusal(deep)).toMatch(/^the XML could not be read: /);
  });

  it('refuses element names that would reach the object prototype', () => {
    expect(
      refusal(report(record()).replace('<policy_published>', '<policy_published><__proto__><polluted>1</polluted></__proto__>'))
    ).toMatch(/^the XML could not be read: /);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps long report ids exactly (they are not numbers)', () => {
    expect(parseDmarcXml(report(record(), '<org_name>g</org_name><report_id>18078393284758390217</report_id>')).reportId).toBe(
      '18078393284758390217'
    );
  });

  it('reads verdicts it does not know as "unknown" rather than refusing the report', () => {
    const xml = report(record())
      .replace('<dkim>pass</dkim><spf>fail</spf>', '<dkim>maybe</dkim><spf>PASS</spf>')
      .replace('<disposition>none', '<disposition>discard');
    const row = parseDmarcXml(xml).records[0]!;
    expect([row.dkim, row.spf, row.disposition]).toEqual(['unknown', 'pass', 'unknown']);
  });
});
