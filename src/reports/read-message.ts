// One received report message, as it sits in the spool, into the reports it carries — or one sentence saying why it
// was set aside. This never throws and never runs unbounded, whatever the bytes are: the message is sent by anyone who
// can mail the report address.
//
// Which parts are reports: DMARC aggregate reports (RFC 7489 section 7.2.1.1) come as gzip (application/gzip, .xml.gz),
// as zip (Google: application/zip, .zip) or as plain XML (text/xml, .xml), and now and then as the body itself; SMTP TLS
// reports (RFC 8460 section 5.3) come as application/tlsrpt+gzip (.json.gz) or application/tlsrpt+json (.json) inside a
// multipart/report. A part counts when its type or its file name says so, or when it is application/octet-stream; what
// it holds is then decided by its bytes (zip and gzip magic, "<" for XML, "{" for JSON), not by its label, because
// reporters mislabel and attackers lie. Other parts (the human-readable text) are ignored.
//
// Every size is bounded by ReportLimits: the message, each report part, and everything decompressed or parsed from
// one message together. A message with a bad report part is rejected as a whole, so nothing half-read is stored.

import PostalMime from 'postal-mime';
import { archiveKind, gunzipCapped, unzipCapped } from './archives.ts';
import { parseDmarcXml } from './dmarc-xml.ts';
import { ReportFormatError } from './format-error.ts';
import { defaultReportLimits, describeBytes, type ReportLimits } from './limits.ts';
import { cleanText, quoteName } from './report-values.ts';
import { parseTlsReport } from './tls-json.ts';
import type { ParsedReport, ReportMessageResult } from './types.ts';

const zipTypes = new Set(['application/zip', 'application/x-zip-compressed', 'application/x-zip']);
const gzipTypes = new Set(['application/gzip', 'application/x-gzip', 'application/tlsrpt+gzip']);
const xmlTypes = new Set(['text/xml', 'application/xml']);
const jsonTypes = new Set(['application/tlsrpt+json', 'application/json']);
const reportFileName = /\.(zip|gz|gzip|xml|json)$/i;

interface ReportPart {
  /** The attachment's file name; undefined for a part without one and for the body. */
  fileName: string | undefined;
  isBody: boolean;
  content: Buffer;
}

/** How a rejection names the part: `the zip attachment "x.zip"`, `the XML attachment`, `the message body`. */
function describePart(part: ReportPart, kind: string): string {
  if (part.isBody) return 'the message body';
  return part.fileName === undefined ? `the ${kind} attachment` : `the ${kind} attachment ${quoteName(part.fileName)}`;
}

export async function readReportMessage(raw: Buffer, limits: ReportLimits = defaultReportLimits): Promise<ReportMessageResult> {
  try {
    return { status: 'reports', reports: await readReports(raw, limits) };
  } catch (error) {
    if (error instanceof ReportFormatError) return { status: 'rejected', reason: error.message };
    // Not expected (every known failure is a ReportFormatError), but a report must never take the reader down.
    return {
      status: 'rejected',
      reason: `the message could not be read (${cleanText(String((error as Error | undefined)?.message ?? error))})`,
    };
  }
}

async function readReports(raw: Buffer, limits: ReportLimits): Promise<ParsedReport[]> {
  if (raw.length > limits.maxMessageBytes) {
    throw new ReportFormatError(
      `the message is ${describeBytes(raw.length)}, larger than the ${describeBytes(limits.maxMessageBytes)} accepted`
    );
  }
  const parts = await reportParts(raw, limits);
  if (parts.length === 0) throw new ReportFormatError('no DMARC or TLS report attached');
  const reports: ParsedReport[] = [];
  // Everything decompressed or parsed from this message draws on one budget, so many small bombs cost no more than one.
  let budget = limits.maxUncompressedBytes;
  const spend = (bytes: number, name: string) => {
    budget -= bytes;
    if (budget < 0)
      throw new ReportFormatError(`${name} brings the reports of this message past ${describeBytes(limits.maxUncompressedBytes)}`);
  };
  for (const part of parts) {
    const archive = archiveKind(part.content);
    const kind = archive ?? { xml: 'XML', json: 'JSON', none: 'report' }[documentKind(part.content) ?? 'none'];
    const label = describePart(part, kind);
    if (part.content.length > limits.maxAttachmentBytes) {
      throw new ReportFormatError(
        `${label} is ${describeBytes(part.content.length)}, larger than the ${describeBytes(limits.maxAttachmentBytes)} accepted`
      );
    }
    if (archive === 'zip') {
      const files = await unzipCapped(part.content, { maxEntries: limits.maxArchiveEntries, maxOutputBytes: budget }, label);
      for (const file of files) {
        spend(file.content.length, label);
        reports.push(parseDocument(file.content, `${label} (${quoteName(file.name)})`, limits));
      }
    } else if (archive === 'gzip') {
      const content = await gunzipCapped(part.content, budget, label);
      spend(content.length, label);
      reports.push(parseDocument(content, label, limits));
    } else {
      spend(part.content.length, label);
      reports.push(parseDocument(part.content, label, limits));
    }
  }
  return reports;
}

/** The parts of the message that hold a report, by their type, file name, or (for a body) content. */
async function reportParts(raw: Buffer, limits: ReportLimits): Promise<ReportPart[]> {
  let email;
  try {
    email = await PostalMime.parse(raw, {
      attachmentEncoding: 'arraybuffer',
      // Reports are one or two levels deep; forwarded messages (message/rfc822) are not opened.
      maxNestingDepth: 16,
      maxHeadersSize: 256 * 1024,
      maxRfc822NestingDepth: 0,
    });
  } catch (error) {
    throw new ReportFormatError(`the message is not readable MIME (${cleanText((error as Error).message)})`);
  }
  const parts: ReportPart[] = [];
  for (const attachment of email.attachments) {
    const fileName = attachment.filename ?? '';
    const type = attachment.mimeType.toLowerCase();
    const byType = zipTypes.has(type) || gzipTypes.has(type) || xmlTypes.has(type) || jsonTypes.has(type);
    if (!byType && !reportFileName.test(fileName) && type !== 'application/octet-stream') continue;
    const content = attachment.content;
    const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content as ArrayBuffer);
    // An octet-stream part with no report-like name counts only if its bytes look like one.
    if (!byType && !reportFileName.test(fileName) && archiveKind(bytes) === undefined && documentKind(bytes) === undefined) continue;
    parts.push({ fileName: fileName === '' ? undefined : fileName, isBody: false, content: bytes });
    if (parts.length > limits.maxArchiveEntries) {
      throw new ReportFormatError(`the message has more than ${limits.maxArchiveEntries} report attachments; a reporter sends one`);
    }
  }
  // A report sent as the text body itself (some smaller reporters do).
  if (parts.length === 0 && email.text !== undefined) {
    const body = Buffer.from(email.text);
    if (documentKind(body) !== undefined) parts.push({ fileName: undefined, isBody: true, content: body });
  }
  return parts;
}

function parseDocument(content: Buffer, label: string, limits: ReportLimits): ParsedReport {
  const kind = documentKind(content);
  try {
    if (kind === 'xml') return parseDmarcXml(content, limits);
    if (kind === 'json') return parseTlsReport(content, limits);
  } catch (error) {
    if (error instanceof ReportFormatError) throw new ReportFormatError(`${label}: ${error.message}`);
    throw error;
  }
  throw new ReportFormatError(`${label} holds neither a DMARC report (XML) nor a TLS report (JSON)`);
}

/** What a decompressed document is, from its first character: XML starts with "<", JSON with "{". */
function documentKind(content: Buffer): 'xml' | 'json' | undefined {
  const start = content
    .subarray(0, 64)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (start.startsWith('<')) return 'xml';
  if (start.startsWith('{')) return 'json';
  return undefined;
}
