import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  billionLaughsReport,
  buildZip,
  dmarcXml,
  encryptedZipReport,
  fixtureDefaults,
  googleZipReport,
  gzipBombReport,
  malformedReport,
  manyEntriesZipReport,
  microsoftGzipReport,
  mimeMessage,
  nestedZipReport,
  newFormatXmlReport,
  plainXmlReport,
  singlePartMessage,
  tlsReportJson,
  tlsRptGzipReport,
  zipBombReport,
} from '../../test/reports/fixtures.ts';
import { defaultReportLimits, type ReportLimits } from './limits.ts';
import { readReportMessage } from './read-message.ts';
import type { DmarcAggregateReport, ParsedReport, ReportMessageResult, TlsReport } from './types.ts';

const to = 'dmarc-reports@example.org';
const mebibyte = 1024 * 1024;

function reportsOf(result: ReportMessageResult): ParsedReport[] {
  if (result.status !== 'reports') throw new Error(`expected reports, got rejected: ${result.reason}`);
  return result.reports;
}

function onlyDmarc(result: ReportMessageResult): DmarcAggregateReport {
  const reports = reportsOf(result);
  expect(reports).toHaveLength(1);
  const report = reports[0]!;
  if (report.kind !== 'dmarc') throw new Error(`expected a DMARC report, got ${report.kind}`);
  return report;
}

function onlyTls(result: ReportMessageResult): TlsReport {
  const reports = reportsOf(result);
  expect(reports).toHaveLength(1);
  const report = reports[0]!;
  if (report.kind !== 'tlsrpt') throw new Error(`expected a TLS report, got ${report.kind}`);
  return report;
}

function reasonOf(result: ReportMessageResult): string {
  if (result.status !== 'rejected') throw new Error('expected the message to be rejected, but it was read');
  return result.reason;
}

const records = [
  { sourceIp: '192.0.2.44', count: 120, dkim: 'pass', spf: 'pass', headerFrom: 'shop.example.net' },
  { sourceIp: '198.51.100.9', count: 7, dkim: 'fail', spf: 'pass', dkimDomain: 'other.example', spfDomain: 'bounce.example.net' },
  { sourceIp: '2001:db8:1::5', count: 2, dkim: 'fail', spf: 'fail' },
] as const;
const options = {
  to,
  domain: 'example.net',
  reportId: 'fixture-report-1',
  begin: new Date('2024-03-01T00:00:00Z'),
  end: new Date('2024-03-01T23:59:59Z'),
  records: [...records],
};

const goodDmarcFixtures = [
  { name: 'Google zip', build: googleZipReport, orgName: 'google.com' },
  { name: 'Microsoft gzip', build: microsoftGzipReport, orgName: 'Enterprise Outlook' },
  { name: 'plain XML', build: plainXmlReport, orgName: 'yahoo.com' },
  { name: 'IETF dmarc-2.0 format', build: newFormatXmlReport, orgName: 'receiver.example' },
  {
    name: 'IETF format with a namespace prefix',
    build: (given: typeof options) => newFormatXmlReport({ ...given, namespacePrefix: 'dmarc' }),
    orgName: 'receiver.example',
  },
];

describe('readReportMessage: reports as reporters send them', () => {
  it('has good DMARC fixtures to check', () => {
    expect(goodDmarcFixtures.length).toBeGreaterThanOrEqual(5);
  });

  it.each(goodDmarcFixtures)('reads the $name report with its numbers', async ({ build, orgName }) => {
    const report = onlyDmarc(await readReportMessage(build(options)));
    expect(report).toMatchObject({
      kind: 'dmarc',
      orgName,
      reportId: 'fixture-report-1',
      domain: 'example.net',
      begin: options.begin,
      end: options.end,
    });
    expect(report.policy.p).toBe('quarantine');
    expect(report.records.map(({ sourceIp, count, dkim, spf, headerFrom }) => ({ sourceIp, count, dkim, spf, headerFrom }))).toEqual([
      { sourceIp: '192.0.2.44', count: 120, dkim: 'pass', spf: 'pass', headerFrom: 'shop.example.net' },
      { sourceIp: '198.51.100.9', count: 7, dkim: 'fail', spf: 'pass', headerFrom: 'example.net' },
      { sourceIp: '2001:db8:1::5', count: 2, dkim: 'fail', spf: 'fail', headerFrom: 'example.net' },
    ]);
    const second = report.records[1]!;
    expect(second.dkimAuth).toEqual([expect.objectContaining({ domain: 'other.example', selector: 'mail', result: 'fail' })]);
    expect(second.spfAuth).toEqual([expect.objectContaining({ domain: 'bounce.example.net', result: 'pass' })]);
    expect(second.disposition).toBe('none');
    expect(report.records[2]!.disposition).toBe('quarantine');
  });

  it('reads the fields only the IETF format has', async () => {
    const report = onlyDmarc(await readReportMessage(newFormatXmlReport(options)));
    expect(report.version).toBe('1.0');
    expect(report.generator).toBe('receiver-dmarc 2.1');
    expect(report.policy).toEqual({ p: 'quarantine', sp: 'quarantine', np: 'reject', testing: 'n', discoveryMethod: 'treewalk' });
    expect(report.records[0]!.dkimAuth[0]!.humanResult).toBe('good signature');
    expect(report.records[0]!.envelopeTo).toBe('example.net');
  });

  it('reads the fields Google and Microsoft add to the RFC 7489 format', async () => {
    const google = onlyDmarc(await readReportMessage(googleZipReport(options)));
    expect(google.policy).toEqual({ p: 'quarantine', sp: 'quarantine', pct: 100, adkim: 'r', aspf: 'r', np: 'quarantine' });
    expect(google.extraContactInfo).toBe('https://support.google.com/a/answer/2466580');
    expect(google.reporterEmail).toBe('noreply-dmarc-support@google.com');
    const microsoft = onlyDmarc(await readReportMessage(microsoftGzipReport(options)));
    expect(microsoft.version).toBe('1.0');
    expect(microsoft.policy.fo).toBe('0');
    expect(microsoft.records[0]!.envelopeTo).toBe('example.net');
  });

  it('reads a TLS report in a multipart/report with an application/tlsrpt+gzip part', async () => {
    const report = onlyTls(
      await readReportMessage(
        tlsRptGzipReport({
          to,
          domain: 'example.net',
          reportId: 'tls-1',
          begin: options.begin,
          end: options.end,
          policies: [
            {
              policyType: 'sts',
              success: 950,
              failure: 12,
              failureDetails: [
                { resultType: 'certificate-host-mismatch', sendingMtaIp: '203.0.113.9', receivingMxHostname: 'mx.example.net', count: 10 },
                { resultType: 'starttls-not-supported', count: 2 },
              ],
            },
            { policyType: 'no-policy-found', policyDomain: 'other.example.net', success: 5, failure: 0 },
          ],
        })
      )
    );
    expect(report).toEqual({
      kind: 'tlsrpt',
      orgName: 'Google Inc.',
      reportId: 'tls-1',
      contact: 'smtp-tls-reporting@google.com',
      begin: options.begin,
      end: options.end,
      policies: [
        {
          policyType: 'sts',
          policyDomain: 'example.net',
          success: 950,
          failure: 12,
          failures: [
            { resultType: 'certificate-host-mismatch', sendingMtaIp: '203.0.113.9', receivingMxHostname: 'mx.example.net', count: 10 },
            { resultType: 'starttls-not-supported', count: 2 },
          ],
        },
        { policyType: 'no-policy-found', policyDomain: 'other.example.net', success: 5, failure: 0, failures: [] },
      ],
    });
  });

  it('reads the fixtures with their default options', async () => {
    const report = onlyDmarc(await readReportMessage(googleZipReport()));
    expect(report.domain).toBe(fixtureDefaults.domain);
    expect(report.records.reduce((sum, record) => sum + record.count, 0)).toBe(16);
    expect(onlyTls(await readReportMessage(tlsRptGzipReport())).policies[0]).toMatchObject({ success: 40, failure: 2 });
  });

  it('reads a report sent as the body itself, as XML, as text or as JSON', async () => {
    const xml = dmarcXml(options, 'rfc7489');
    expect(onlyDmarc(await readReportMessage(singlePartMessage(to, 'text/xml', xml))).records).toHaveLength(3);
    expect(onlyDmarc(await readReportMessage(singlePartMessage(to, 'text/plain; charset=utf-8', xml))).records).toHaveLength(3);
    expect(onlyTls(await readReportMessage(singlePartMessage(to, 'application/tlsrpt+json', tlsReportJson()))).orgName).toBe('Google Inc.');
  });

  it('decides what a part holds by its bytes, not by its label', async () => {
    const xml = dmarcXml(options, 'rfc7489');
    const mislabelled = mimeMessage({
      from: 'reports@receiver.example',
      to,
      subject: 'Report Domain: example.net Submitter: receiver.example Report-ID: <1>',
      text: 'Report attached.',
      attachments: [
        // gzip bytes under an .xml name, and a zip as application/octet-stream with a name that says nothing.
        { contentType: 'text/xml', fileName: 'report.xml', content: gzipSync(xml) },
        {
          contentType: 'application/octet-stream',
          fileName: 'attachment',
          content: buildZip([{ name: 'r.xml', content: Buffer.from(xml) }]),
        },
      ],
    });
    const reports = reportsOf(await readReportMessage(mislabelled));
    expect(reports.map((report) => report.kind)).toEqual(['dmarc', 'dmarc']);
  });

  it('ignores parts that are not reports (a logo, the text) but reads the report beside them', async () => {
    const message = mimeMessage({
      from: 'reports@receiver.example',
      to,
      subject: 'Report',
      text: 'Hello',
      attachments: [
        { contentType: 'image/png', fileName: 'logo.png', content: randomBytes(2000) },
        { contentType: 'application/gzip', fileName: 'r.xml.gz', content: gzipSync(dmarcXml(options, 'google')) },
      ],
    });
    expect(onlyDmarc(await readReportMessage(message)).orgName).toBe('google.com');
  });
});

describe('readReportMessage: messages it sets aside', () => {
  it('rejects a message with no report', async () => {
    const message = mimeMessage({ from: 'someone@example.com', to, subject: 'hello', text: 'Just saying hi.', attachments: [] });
    expect(await readReportMessage(message)).toEqual({ status: 'rejected', reason: 'no DMARC or TLS report attached' });
  });

  it('refuses a zip bomb whose headers tell the truth, from the headers alone', async () => {
    const started = performance.now();
    const reason = reasonOf(await readReportMessage(zipBombReport(to)));
    expect(reason).toMatch(/^the zip attachment ".*\.zip" expands past 20 MiB \(".*\.xml" declares 64 MiB\)$/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses a zip bomb whose headers lie, by counting what it inflates to', async () => {
    const reason = reasonOf(await readReportMessage(zipBombReport(to, 'lying-headers')));
    expect(reason).toMatch(/^the zip attachment ".*\.zip" holds ".*\.xml", which does not inflate to the 4 KiB its header declares/);
  });

  it('refuses a lying zip bomb at the cap without inflating it all (a 1 GiB entry, the 20 MiB cap)', async () => {
    const message = zipBombReport(to, 'lying-headers', 1024 * mebibyte);
    // yauzl's size check stops the stream right after the declared 4 KiB; without it our own count stops at the cap.
    // Either way memory grows by far less than the expansion and the work is done in well under a second or two.
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const reason = reasonOf(await readReportMessage(message));
    const grown = process.memoryUsage().rss - before;
    expect(reason).toContain('refused as a likely zip bomb');
    expect(grown).toBeLessThan(100 * mebibyte);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('states the cap it refused at, whatever the cap is', async () => {
    const limits: ReportLimits = { ...defaultReportLimits, maxUncompressedBytes: 3 * mebibyte };
    const reason = reasonOf(await readReportMessage(zipBombReport(to, 'honest-headers', 8 * mebibyte), limits));
    expect(reason).toMatch(/expands past 3 MiB/);
  });

  it('refuses a gzip bomb at the cap, holding no more than the cap', async () => {
    const message = gzipBombReport(to, 512 * mebibyte);
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const reason = reasonOf(await readReportMessage(message));
    const grown = process.memoryUsage().rss - before;
    expect(reason).toMatch(/^the gzip attachment ".*\.xml\.gz" expands past 20 MiB$/);
    expect(grown).toBeLessThan(100 * mebibyte);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('counts everything decompressed from one message against one budget', async () => {
    const xml = Buffer.from(dmarcXml(options, 'google'));
    const limits: ReportLimits = { ...defaultReportLimits, maxUncompressedBytes: xml.length * 2 + 10 };
    const attachments = [1, 2, 3].map((index) => ({
      contentType: 'application/gzip',
      fileName: `r${index}.xml.gz`,
      content: gzipSync(xml),
    }));
    const message = mimeMessage({ from: 'reports@receiver.example', to, subject: 'Reports', text: '', attachments });
    expect(reasonOf(await readReportMessage(message, limits))).toMatch(/^the gzip attachment "r3\.xml\.gz" expands past/);
    expect(reportsOf(await readReportMessage(message))).toHaveLength(3);
  });

  it('refuses billion laughs before any entity is expanded', async () => {
    const started = performance.now();
    const reason = reasonOf(await readReportMessage(billionLaughsReport(to)));
    expect(reason).toMatch(/^the XML attachment ".*\.xml": the XML declares a DOCTYPE or entities/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('rejects broken XML with the line it broke on', async () => {
    expect(reasonOf(await readReportMessage(malformedReport(to)))).toMatch(
      /: the XML is malformed: Expected closing tag 'row'.* \(line \d+\)$/
    );
  });

  it('refuses archives inside archives, encrypted entries and zips with many files', async () => {
    expect(reasonOf(await readReportMessage(nestedZipReport(to)))).toMatch(
      /holds another archive \("inner\.zip"\); mailops opens one level only$/
    );
    expect(reasonOf(await readReportMessage(encryptedZipReport(to)))).toMatch(/holds an encrypted file \("report\.xml"\)/);
    expect(reasonOf(await readReportMessage(manyEntriesZipReport(to, 50)))).toMatch(
      /holds 50 files; a report zip holds one \(at most 5 accepted\)$/
    );
  });

  it('refuses a gzip inside a gzip', async () => {
    const message = mimeMessage({
      from: 'reports@receiver.example',
      to,
      subject: 'Report',
      text: '',
      attachments: [{ contentType: 'application/gzip', fileName: 'r.xml.gz', content: gzipSync(gzipSync(dmarcXml(options, 'google'))) }],
    });
    expect(reasonOf(await readReportMessage(message))).toBe(
      'the gzip attachment "r.xml.gz" holds another archive inside; mailops opens one level only'
    );
  });

  it('refuses messages and attachments over their size limits before reading them', async () => {
    const message = googleZipReport(options);
    expect(reasonOf(await readReportMessage(message, { ...defaultReportLimits, maxMessageBytes: 1000 }))).toMatch(
      /^the message is \d\.\d KiB, larger than the 1000 bytes accepted$/
    );
    expect(reasonOf(await readReportMessage(message, { ...defaultReportLimits, maxAttachmentBytes: 100 }))).toMatch(
      /^the zip attachment ".*\.zip" is \d+ bytes, larger than the 100 bytes accepted$/
    );
  });

  it('refuses a report with more records than accepted', async () => {
    const limits: ReportLimits = { ...defaultReportLimits, maxRecords: 2 };
    expect(reasonOf(await readReportMessage(plainXmlReport(options), limits))).toMatch(
      /the report has 3 records, more than the 2 accepted$/
    );
  });

  it('names the field that is wrong in a report that parses', async () => {
    const xml = dmarcXml(options, 'rfc7489').replace('<source_ip>198.51.100.9</source_ip>', '<source_ip>not-an-ip</source_ip>');
    const reason = reasonOf(await readReportMessage(singlePartMessage(to, 'text/xml', xml)));
    expect(reason).toBe('the XML attachment: record 2: source_ip is "not-an-ip", not an IPv4 or IPv6 address');
  });

  it('never throws and always answers, whatever the bytes', async () => {
    const good = [googleZipReport(options), microsoftGzipReport(options), tlsRptGzipReport(), plainXmlReport(options)];
    const inputs: Buffer[] = [
      Buffer.alloc(0),
      randomBytes(5000),
      Buffer.from('\r\n\r\n\r\n'),
      Buffer.from('Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n'),
    ];
    // Every good fixture cut short at many points, and with its bytes flipped here and there.
    for (const message of good) {
      for (let cut = 0; cut < message.length; cut += Math.ceil(message.length / 25)) inputs.push(message.subarray(0, cut));
      for (let round = 0; round < 10; round++) {
        const damaged = Buffer.from(message);
        for (let flip = 0; flip < 20; flip++) damaged[Math.floor(Math.random() * damaged.length)] = Math.floor(Math.random() * 256);
        inputs.push(damaged);
      }
    }
    expect(inputs.length).toBeGreaterThan(100);
    for (const input of inputs) {
      const result = await readReportMessage(input);
      expect(['reports', 'rejected']).toContain(result.status);
      if (result.status === 'rejected') {
        expect(result.reason.length).toBeGreaterThan(0);
        expect(result.reason).not.toMatch(/\n/);
      }
    }
  });
});
