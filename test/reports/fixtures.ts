// Report messages as receivers send them, and hostile ones, for the report reader's unit tests and the lab.
//
// Every builder returns a whole RFC 5322 message (CRLF line ends, base64 attachments) ready to hand to chasquid or to
// readReportMessage. The shapes follow public descriptions, not captured mail:
//   - RFC 7489 section 7.2.1.1 and appendix C: the XML, the file name `receiver!policy-domain!begin!end.ext`, the
//     subject `Report Domain: … Submitter: … Report-ID: …`, gzip as application/gzip;
//   - Google's documentation of its DMARC reports: a zip attachment (application/zip) named
//     `google.com!example.org!1700000000!1700086399.zip` from noreply-dmarc-support@google.com, with <np> and
//     <extra_contact_info> in the XML;
//   - Microsoft's documentation of its reports: from dmarcreport@microsoft.com, a gzip attachment named
//     `enterprise.protection.outlook.com!example.org!…!….xml.gz`, a <version> element and envelope_to identifiers;
//   - draft-ietf-dmarc-aggregate-reporting: `<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">` with <version>,
//     <generator>, <np>, <testing>, <discovery_method> and <human_result>;
//   - RFC 8460 sections 4 (the JSON), 5.3 (multipart/report; report-type="tlsrpt", an application/tlsrpt+gzip part named
//     `submitter!policy-domain!begin!end.json.gz`, the TLS-Report-Domain and TLS-Report-Submitter headers) and 6 (the
//     subject `Report Domain: … Submitter: … Report-ID: <…>`).
// Zip files are written here by hand (local headers, central directory, end record) with node:zlib, so that the bombs
// can lie in their headers the way real ones do, and so that this file needs nothing beyond Node.

import { constants, crc32, deflateRawSync, gzipSync } from 'node:zlib';

export interface DmarcRecordFixture {
  sourceIp: string;
  count: number;
  dkim: 'pass' | 'fail';
  spf: 'pass' | 'fail';
  headerFrom?: string;
  dkimDomain?: string;
  spfDomain?: string;
}

export interface DmarcReportOptions {
  /** The report address the message is sent to. */
  to?: string;
  /** The policy domain the report is about. */
  domain?: string;
  reportId?: string;
  begin?: Date;
  end?: Date;
  records?: DmarcRecordFixture[];
}

export interface TlsFailureFixture {
  resultType: string;
  sendingMtaIp?: string;
  receivingMxHostname?: string;
  count: number;
}

export interface TlsPolicyFixture {
  policyType?: 'sts' | 'tlsa' | 'no-policy-found';
  policyDomain?: string;
  success: number;
  failure: number;
  failureDetails?: TlsFailureFixture[];
}

export interface TlsReportOptions {
  to?: string;
  domain?: string;
  reportId?: string;
  begin?: Date;
  end?: Date;
  policies?: TlsPolicyFixture[];
}

const defaultRecords: DmarcRecordFixture[] = [
  { sourceIp: '192.0.2.10', count: 12, dkim: 'pass', spf: 'pass' },
  { sourceIp: '198.51.100.7', count: 3, dkim: 'fail', spf: 'fail' },
  { sourceIp: '2001:db8::25', count: 1, dkim: 'pass', spf: 'fail' },
];

const defaultPolicies: TlsPolicyFixture[] = [
  {
    policyType: 'sts',
    success: 40,
    failure: 2,
    failureDetails: [{ resultType: 'certificate-expired', sendingMtaIp: '203.0.113.5', receivingMxHostname: 'mail.example.org', count: 2 }],
  },
];

export const fixtureDefaults = {
  to: 'dmarc-reports@example.org',
  domain: 'example.org',
  begin: new Date(1_700_000_000_000),
  end: new Date(1_700_086_399_000),
  /** Documentation addresses (RFC 5737, RFC 3849): one passing source, one failing, one IPv6. */
  records: defaultRecords,
  policies: defaultPolicies,
};

const mebibyte = 1024 * 1024;

// DMARC aggregate reports

/** Google: multipart/mixed with a zip attachment holding one XML file (RFC 7489 format, with <np>). */
export function googleZipReport(options: DmarcReportOptions = {}): Buffer {
  const report = resolveDmarc(options);
  const reportId = options.reportId ?? '18078393284758390217';
  const fileBase = `google.com!${report.domain}!${seconds(report.begin)}!${seconds(report.end)}`;
  const xml = dmarcXml({ ...report, reportId }, 'google');
  return mimeMessage({
    from: 'noreply-dmarc-support@google.com',
    to: report.to,
    subject: `Report domain: ${report.domain} Submitter: google.com Report-ID: ${reportId}`,
    text: '',
    attachments: [
      {
        contentType: 'application/zip',
        fileName: `${fileBase}.zip`,
        content: buildZip([{ name: `${fileBase}.xml`, content: Buffer.from(xml) }]),
      },
    ],
  });
}

/** Microsoft: a short text part and an application/gzip .xml.gz attachment, with <version> and envelope_to. */
export function microsoftGzipReport(options: DmarcReportOptions = {}): Buffer {
  const report = resolveDmarc(options);
  const reportId = options.reportId ?? 'a3c5f8e2b7d94c0e8f1a2b3c4d5e6f70';
  const fileName = `enterprise.protection.outlook.com!${report.domain}!${seconds(report.begin)}!${seconds(report.end)}.xml.gz`;
  return mimeMessage({
    from: '"DMARC Aggregate Report" <dmarcreport@microsoft.com>',
    to: report.to,
    subject: `Report Domain: ${report.domain} Submitter: enterprise.protection.outlook.com Report-ID: <${reportId}>`,
    text: `This is a DMARC aggregate report from Microsoft Corporation. For Emails received between ${report.begin.toISOString()} and ${report.end.toISOString()}.`,
    attachments: [{ contentType: 'application/gzip', fileName, content: gzipSync(dmarcXml({ ...report, reportId }, 'microsoft')) }],
  });
}

/** A plain, uncompressed .xml attachment (text/xml), as some smaller receivers send; RFC 7489 appendix C format. */
export function plainXmlReport(options: DmarcReportOptions = {}): Buffer {
  const report = resolveDmarc(options);
  const reportId = options.reportId ?? `${report.domain}.${seconds(report.begin)}`;
  const fileName = `yahoo.com!${report.domain}!${seconds(report.begin)}!${seconds(report.end)}.xml`;
  return mimeMessage({
    from: 'noreply@dmarc.yahoo.com',
    to: report.to,
    subject: `Report Domain: ${report.domain} Submitter: yahoo.com Report-ID: <${reportId}>`,
    text: `Attached is the DMARC aggregate report for ${report.domain}.`,
    attachments: [{ contentType: 'text/xml', fileName, content: Buffer.from(dmarcXml({ ...report, reportId }, 'rfc7489')) }],
  });
}

/**
 * The IETF aggregate-reporting format (dmarc-2.0 namespace), gzipped. `namespacePrefix` writes every element with a
 * prefix (`<dmarc:feedback xmlns:dmarc="…">`) instead of a default namespace.
 */
export function newFormatXmlReport(options: DmarcReportOptions & { namespacePrefix?: string } = {}): Buffer {
  const report = resolveDmarc(options);
  const reportId = options.reportId ?? `${report.domain}-${seconds(report.begin)}-dmarc2`;
  const fileName = `mx.receiver.example!${report.domain}!${seconds(report.begin)}!${seconds(report.end)}.xml.gz`;
  let xml = dmarcXml({ ...report, reportId }, 'dmarc-2.0');
  if (options.namespacePrefix !== undefined) {
    const prefix = options.namespacePrefix;
    xml = xml
      .replace('<feedback xmlns=', `<feedback xmlns:${prefix}=`)
      .replace(/<(\/?)([a-z_]+)([ >])/g, (_match, slash: string, name: string, after: string) => `<${slash}${prefix}:${name}${after}`);
  }
  return mimeMessage({
    from: 'dmarc-reports@receiver.example',
    to: report.to,
    subject: `Report Domain: ${report.domain} Submitter: receiver.example Report-ID: <${reportId}>`,
    text: `DMARC aggregate report for ${report.domain}.`,
    attachments: [{ contentType: 'application/gzip', fileName, content: gzipSync(xml) }],
  });
}

// SMTP TLS reports

/** RFC 8460 section 5.3: multipart/report; report-type="tlsrpt" with an application/tlsrpt+gzip part. */
export function tlsRptGzipReport(options: TlsReportOptions = {}): Buffer {
  const domain = options.domain ?? fixtureDefaults.domain;
  const begin = options.begin ?? fixtureDefaults.begin;
  const end = options.end ?? fixtureDefaults.end;
  const reportId = options.reportId ?? `${begin.toISOString()}_${domain}`;
  const json = tlsReportJson({ ...options, domain, begin, end, reportId });
  return mimeMessage({
    from: 'noreply-smtp-tls-reporting@google.com',
    to: options.to ?? `tls-reports@${domain}`,
    subject: `Report Domain: ${domain} Submitter: google.com Report-ID: <${reportId}>`,
    headers: { 'TLS-Report-Domain': domain, 'TLS-Report-Submitter': 'google.com' },
    multipart: 'report; report-type="tlsrpt"',
    text: `This is an aggregate TLS report from google.com for ${domain}.`,
    attachments: [
      {
        contentType: 'application/tlsrpt+gzip',
        fileName: `google.com!${domain}!${seconds(begin)}!${seconds(end)}.json.gz`,
        content: gzipSync(json),
      },
    ],
  });
}

/** The RFC 8460 section 4 JSON of a TLS report. */
export function tlsReportJson(options: TlsReportOptions = {}): string {
  const domain = options.domain ?? fixtureDefaults.domain;
  const begin = options.begin ?? fixtureDefaults.begin;
  const end = options.end ?? fixtureDefaults.end;
  const policies = options.policies ?? fixtureDefaults.policies;
  return JSON.stringify(
    {
      'organization-name': 'Google Inc.',
      'date-range': {
        'start-datetime': begin.toISOString().replace('.000Z', 'Z'),
        'end-datetime': end.toISOString().replace('.000Z', 'Z'),
      },
      'contact-info': 'smtp-tls-reporting@google.com',
      'report-id': options.reportId ?? `${begin.toISOString()}_${domain}`,
      policies: policies.map((policy) => {
        const policyDomain = policy.policyDomain ?? domain;
        const policyType = policy.policyType ?? 'sts';
        return {
          policy: {
            'policy-type': policyType,
            ...(policyType === 'sts'
              ? {
                  'policy-string': ['version: STSv1', 'mode: enforce', `mx: mail.${policyDomain}`, 'max_age: 604800'],
                  'mx-host': [`mail.${policyDomain}`],
                }
              : {}),
            'policy-domain': policyDomain,
          },
          summary: { 'total-successful-session-count': policy.success, 'total-failure-session-count': policy.failure },
          ...(policy.failureDetails === undefined
            ? {}
            : {
                'failure-details': policy.failureDetails.map((detail) => ({
                  'result-type': detail.resultType,
                  ...(detail.sendingMtaIp === undefined ? {} : { 'sending-mta-ip': detail.sendingMtaIp }),
                  ...(detail.receivingMxHostname === undefined ? {} : { 'receiving-mx-hostname': detail.receivingMxHostname }),
                  'failed-session-count': detail.count,
                })),
              }),
        };
      }),
    },
    null,
    2
  );
}

// Hostile messages

/**
 * A zip whose one XML entry inflates to `expandedBytes` of zeros (64 MiB by default) from a few dozen KiB. With
 * 'honest-headers' the headers declare the true size; with 'lying-headers' they declare 4 KiB, so only counting the
 * inflated bytes catches it.
 */
export function zipBombReport(
  to: string,
  variant: 'honest-headers' | 'lying-headers' = 'honest-headers',
  expandedBytes = 64 * mebibyte
): Buffer {
  const zeros = deflatedZeros(expandedBytes);
  const entry: ZipEntry = { name: 'google.com!example.org!1700000000!1700086399.xml', ...zeros };
  if (variant === 'lying-headers') entry.declaredSize = 4096;
  return dmarcBombMessage(to, 'application/zip', 'google.com!example.org!1700000000!1700086399.zip', buildZip([entry]));
}

/** A gzip attachment that inflates to `expandedBytes` of zeros (64 MiB by default). */
export function gzipBombReport(to: string, expandedBytes = 64 * mebibyte): Buffer {
  const zeros = deflatedZeros(expandedBytes);
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zeros.crc32, 0);
  trailer.writeUInt32LE(zeros.size % 2 ** 32, 4);
  const gzip = Buffer.concat([header, zeros.deflated, trailer]);
  return dmarcBombMessage(to, 'application/gzip', 'enterprise.protection.outlook.com!example.org!1700000000!1700086399.xml.gz', gzip);
}

/** Plain XML whose DOCTYPE defines entities that expand a billion-fold ("billion laughs"). */
export function billionLaughsReport(to: string): Buffer {
  const entities = ['<!ENTITY lol "lol">'];
  for (let level = 1; level <= 9; level++) entities.push(`<!ENTITY lol${level} "${`&lol${level === 1 ? '' : level - 1};`.repeat(10)}">`);
  const xml = dmarcXml(resolveDmarc({ to }), 'rfc7489')
    .replace('<feedback>', `<!DOCTYPE feedback [\r\n${entities.join('\r\n')}\r\n]>\r\n<feedback>`)
    .replace('<org_name>yahoo.com</org_name>', '<org_name>&lol9;</org_name>');
  return mimeMessage({
    from: 'noreply@dmarc.yahoo.com',
    to,
    subject: 'Report Domain: example.org Submitter: yahoo.com Report-ID: <laughs>',
    text: '',
    attachments: [{ contentType: 'text/xml', fileName: 'yahoo.com!example.org!1700000000!1700086399.xml', content: Buffer.from(xml) }],
  });
}

/** A report whose XML is cut off in the middle of a record (a truncated upload, or a fuzzer). */
export function malformedReport(to: string): Buffer {
  const xml = dmarcXml(resolveDmarc({ to }), 'rfc7489');
  const broken = xml.slice(0, xml.indexOf('</row>')) + '</record></feedback>';
  return mimeMessage({
    from: 'noreply@dmarc.yahoo.com',
    to,
    subject: 'Report Domain: example.org Submitter: yahoo.com Report-ID: <broken>',
    text: '',
    attachments: [{ contentType: 'text/xml', fileName: 'yahoo.com!example.org!1700000000!1700086399.xml', content: Buffer.from(broken) }],
  });
}

/** A zip holding a zip holding the report: real reporters never nest archives, bombs do. */
export function nestedZipReport(to: string): Buffer {
  const inner = buildZip([{ name: 'report.xml', content: Buffer.from(dmarcXml(resolveDmarc({ to }), 'google')) }]);
  return dmarcBombMessage(
    to,
    'application/zip',
    'google.com!example.org!1700000000!1700086399.zip',
    buildZip([{ name: 'inner.zip', content: inner }])
  );
}

/** A zip whose entry is flagged encrypted (general purpose bit 0): reports are never encrypted. */
export function encryptedZipReport(to: string): Buffer {
  const entry: ZipEntry = { name: 'report.xml', content: Buffer.from(dmarcXml(resolveDmarc({ to }), 'google')), encrypted: true };
  return dmarcBombMessage(to, 'application/zip', 'google.com!example.org!1700000000!1700086399.zip', buildZip([entry]));
}

/** A zip with `count` small XML entries (a report zip holds one). */
export function manyEntriesZipReport(to: string, count = 50): Buffer {
  const xml = Buffer.from(dmarcXml(resolveDmarc({ to }), 'google'));
  const entries = Array.from({ length: count }, (_, index) => ({ name: `report-${index}.xml`, content: xml }));
  return dmarcBombMessage(to, 'application/zip', 'google.com!example.org!1700000000!1700086399.zip', buildZip(entries));
}

function dmarcBombMessage(to: string, contentType: string, fileName: string, content: Buffer): Buffer {
  return mimeMessage({
    from: 'noreply-dmarc-support@google.com',
    to,
    subject: 'Report domain: example.org Submitter: google.com Report-ID: 1',
    text: '',
    attachments: [{ contentType, fileName, content }],
  });
}

// The XML of a DMARC aggregate report

type ResolvedDmarc = Required<Omit<DmarcReportOptions, 'reportId'>> & { reportId?: string };

function resolveDmarc(options: DmarcReportOptions): ResolvedDmarc {
  return {
    ...options,
    to: options.to ?? fixtureDefaults.to,
    domain: options.domain ?? fixtureDefaults.domain,
    begin: options.begin ?? fixtureDefaults.begin,
    end: options.end ?? fixtureDefaults.end,
    records: options.records ?? fixtureDefaults.records,
  };
}

/** The XML a reporter of the given style writes for these records. */
export function dmarcXml(
  options: DmarcReportOptions & { reportId?: string },
  style: 'google' | 'microsoft' | 'rfc7489' | 'dmarc-2.0'
): string {
  const report = resolveDmarc(options);
  const reportId = options.reportId ?? `${report.domain}.${seconds(report.begin)}`;
  const organization = { google: 'google.com', microsoft: 'Enterprise Outlook', rfc7489: 'yahoo.com', 'dmarc-2.0': 'receiver.example' }[
    style
  ];
  const email = {
    google: 'noreply-dmarc-support@google.com',
    microsoft: 'dmarcreport@microsoft.com',
    rfc7489: 'dmarchelp@yahooinc.com',
    'dmarc-2.0': 'dmarc-reports@receiver.example',
  }[style];
  const lines: string[] = [];
  if (style === 'dmarc-2.0') {
    lines.push('<?xml version="1.0" encoding="UTF-8"?>', '<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">', '  <version>1.0</version>');
  } else if (style === 'microsoft') {
    lines.push(
      '<?xml version="1.0"?>',
      '<feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
      '  <version>1.0</version>'
    );
  } else {
    lines.push('<?xml version="1.0" encoding="UTF-8" ?>', '<feedback>');
  }
  lines.push(
    '  <report_metadata>',
    `    <org_name>${escapeXml(organization)}</org_name>`,
    `    <email>${email}</email>`,
    ...(style === 'google' ? ['    <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>'] : []),
    `    <report_id>${escapeXml(reportId)}</report_id>`,
    '    <date_range>',
    `      <begin>${seconds(report.begin)}</begin>`,
    `      <end>${seconds(report.end)}</end>`,
    '    </date_range>',
    ...(style === 'dmarc-2.0' ? ['    <generator>receiver-dmarc 2.1</generator>'] : []),
    '  </report_metadata>',
    '  <policy_published>',
    `    <domain>${escapeXml(report.domain)}</domain>`,
    ...(style === 'dmarc-2.0'
      ? [
          '    <p>quarantine</p>',
          '    <sp>quarantine</sp>',
          '    <np>reject</np>',
          '    <testing>n</testing>',
          '    <discovery_method>treewalk</discovery_method>',
        ]
      : [
          '    <adkim>r</adkim>',
          '    <aspf>r</aspf>',
          '    <p>quarantine</p>',
          '    <sp>quarantine</sp>',
          '    <pct>100</pct>',
          ...(style === 'google' ? ['    <np>quarantine</np>'] : []),
          ...(style === 'microsoft' ? ['    <fo>0</fo>'] : []),
        ]),
    '  </policy_published>'
  );
  for (const record of report.records) {
    const headerFrom = record.headerFrom ?? report.domain;
    const disposition = record.dkim === 'pass' || record.spf === 'pass' ? 'none' : 'quarantine';
    lines.push(
      '  <record>',
      '    <row>',
      `      <source_ip>${escapeXml(record.sourceIp)}</source_ip>`,
      `      <count>${record.count}</count>`,
      '      <policy_evaluated>',
      `        <disposition>${disposition}</disposition>`,
      `        <dkim>${record.dkim}</dkim>`,
      `        <spf>${record.spf}</spf>`,
      '      </policy_evaluated>',
      '    </row>',
      '    <identifiers>',
      ...(style === 'microsoft' || style === 'dmarc-2.0' ? [`      <envelope_to>${escapeXml(report.domain)}</envelope_to>`] : []),
      ...(style === 'dmarc-2.0' ? [`      <envelope_from>${escapeXml(record.spfDomain ?? headerFrom)}</envelope_from>`] : []),
      `      <header_from>${escapeXml(headerFrom)}</header_from>`,
      '    </identifiers>',
      '    <auth_results>',
      '      <dkim>',
      `        <domain>${escapeXml(record.dkimDomain ?? headerFrom)}</domain>`,
      '        <selector>mail</selector>',
      `        <result>${record.dkim}</result>`,
      ...(style === 'dmarc-2.0'
        ? [`        <human_result>${record.dkim === 'pass' ? 'good signature' : 'body hash did not verify'}</human_result>`]
        : []),
      '      </dkim>',
      '      <spf>',
      `        <domain>${escapeXml(record.spfDomain ?? headerFrom)}</domain>`,
      ...(style === 'dmarc-2.0' ? [] : ['        <scope>mfrom</scope>']),
      `        <result>${record.spf}</result>`,
      '      </spf>',
      '    </auth_results>',
      '  </record>'
    );
  }
  lines.push('</feedback>', '');
  return lines.join('\r\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

// Zip files, by hand (PKWARE APPNOTE sections 4.3.7, 4.3.12, 4.3.16)

export interface ZipEntry {
  name: string;
  /** The bytes to store, deflated here. */
  content?: Buffer;
  /** Or: an already deflated stream with its CRC-32 and true size (for bombs, which are never held inflated). */
  deflated?: Buffer;
  crc32?: number;
  size?: number;
  /** An uncompressed size for the headers other than the true one. */
  declaredSize?: number;
  /** Set general purpose bit 0 (the data is not actually encrypted). */
  encrypted?: boolean;
}

export function buildZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const data = entry.deflated ?? deflateRawSync(entry.content ?? Buffer.alloc(0));
    const crc = entry.crc32 ?? crc32(entry.content ?? Buffer.alloc(0));
    const size = entry.declaredSize ?? entry.size ?? (entry.content ?? Buffer.alloc(0)).length;
    // Bit 11: the name is UTF-8. Bit 0: encrypted.
    const flags = 0x0800 | (entry.encrypted === true ? 0x0001 : 0);
    // 2023-11-14 22:13:20 in MS-DOS time and date.
    const dosTime = (22 << 11) | (13 << 5) | 10;
    const dosDate = ((2023 - 1980) << 9) | (11 << 5) | 14;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/**
 * A raw deflate stream of `bytes` zeros, built without ever holding them: one MiB of zeros deflated with a sync flush
 * (byte-aligned, not final) is repeated, then an empty final block closes the stream. The CRC-32 is carried over the
 * same MiB as many times.
 */
function deflatedZeros(bytes: number): { deflated: Buffer; crc32: number; size: number } {
  const chunks = Math.max(1, Math.ceil(bytes / mebibyte));
  const zeros = Buffer.alloc(mebibyte);
  const block = deflateRawSync(zeros, { finishFlush: constants.Z_SYNC_FLUSH });
  let crc = 0;
  for (let index = 0; index < chunks; index++) crc = crc32(zeros, crc);
  const final = deflateRawSync(Buffer.alloc(0));
  return { deflated: Buffer.concat([...Array.from({ length: chunks }, () => block), final]), crc32: crc, size: chunks * mebibyte };
}

// RFC 5322 messages

interface MimeAttachment {
  contentType: string;
  fileName: string;
  content: Buffer;
}

interface MimeMessage {
  from: string;
  to: string;
  subject: string;
  headers?: Record<string, string>;
  /** `mixed` (DMARC) or `report; report-type="tlsrpt"` (RFC 8460). */
  multipart?: string;
  text: string;
  attachments: MimeAttachment[];
}

let messageCounter = 0;

export function mimeMessage(message: MimeMessage): Buffer {
  messageCounter++;
  const boundary = `----=_Part_${messageCounter}_${Date.now().toString(36)}`;
  const header = [
    `From: ${message.from}`,
    `To: ${message.to}`,
    `Subject: ${message.subject}`,
    `Date: ${new Date(1_700_090_000_000).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <fixture-${messageCounter}.${Date.now().toString(36)}@reports.example>`,
    'MIME-Version: 1.0',
    ...Object.entries(message.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    `Content-Type: multipart/${message.multipart ?? 'mixed'}; boundary="${boundary}"`,
  ];
  const body = [
    'This is a multi-part message in MIME format.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset="us-ascii"',
    'Content-Transfer-Encoding: 7bit',
    '',
    message.text,
  ];
  for (const attachment of message.attachments) {
    body.push(
      `--${boundary}`,
      `Content-Type: ${attachment.contentType}; name="${attachment.fileName}"`,
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="${attachment.fileName}"`,
      '',
      ...base64Lines(attachment.content)
    );
  }
  body.push(`--${boundary}--`, '');
  return Buffer.from([...header, '', ...body].join('\r\n'));
}

/** A message with no MIME structure: the given body as it is, under the given Content-Type. */
export function singlePartMessage(to: string, contentType: string, body: string): Buffer {
  return Buffer.from(
    [
      'From: reports@receiver.example',
      `To: ${to}`,
      'Subject: Report Domain: example.org Submitter: receiver.example Report-ID: <inline>',
      'MIME-Version: 1.0',
      `Content-Type: ${contentType}`,
      '',
      body,
    ].join('\r\n')
  );
}

function base64Lines(content: Buffer): string[] {
  const encoded = content.toString('base64');
  const lines: string[] = [];
  for (let at = 0; at < encoded.length; at += 76) lines.push(encoded.slice(at, at + 76));
  return lines;
}
