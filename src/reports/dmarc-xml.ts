// DMARC aggregate reports as XML: RFC 7489 appendix C and the IETF aggregate-reporting format that succeeds it
// (draft-ietf-dmarc-aggregate-reporting: `<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">`, with <version>,
// <np>, <testing>, <discovery_method>, <generator>, <human_result>). Namespace prefixes are dropped, so
// `<dmarc:feedback>` reads like `<feedback>`.
//
// The XML comes from anyone who can mail the report address. Before parsing we refuse any DOCTYPE or ENTITY
// declaration (real reports have none; this stops entity-expansion "billion laughs" and external-entity attacks before
// a parser sees them), count <record> elements against the limit, and check that the XML is well formed. The parser
// then decodes only the five predefined entities, keeps every value as text (report ids are longer than a number can
// hold), and nests no deeper than a report does. Every value is checked for its type and cut to a length fit for
// Discord; anything missing or malformed is a ReportFormatError that names the field.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ReportFormatError } from './format-error.ts';
import { defaultReportLimits, type ReportLimits } from './limits.ts';
import { cleanText, describeValue, ipAddress, nonNegativeInteger } from './report-values.ts';
import type { AuthResult, DmarcAggregateReport, DmarcRecord } from './types.ts';

export { ReportFormatError } from './format-error.ts';

/** More DKIM signatures or SPF checks than this in one row is not a report a receiver wrote. */
const maxAuthResultsPerRecord = 100;
/** <feedback>/<record>/<auth_results>/<dkim>/<domain> is five deep; leave room for extensions. */
const maxNesting = 16;

const listPaths = new Set([
  'feedback.record',
  'feedback.record.auth_results.dkim',
  'feedback.record.auth_results.spf',
  'feedback.report_metadata.error',
]);

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  // The five predefined entities (&amp; in "AT&amp;T") are decoded; DOCTYPE entities cannot occur (refused above).
  processEntities: { enabled: true, maxEntityCount: 0 },
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: maxNesting,
  jPath: true,
  isArray: (_name, path) => typeof path === 'string' && listPaths.has(path),
});

const authResults = new Set<AuthResult>(['pass', 'fail', 'none', 'neutral', 'softfail', 'temperror', 'permerror', 'policy']);
const dispositions = new Set<DmarcRecord['disposition']>(['none', 'quarantine', 'reject']);

export function parseDmarcXml(xml: Buffer | string, limits: Pick<ReportLimits, 'maxRecords'> = defaultReportLimits): DmarcAggregateReport {
  const text = (typeof xml === 'string' ? xml : xml.toString('utf8')).replace(/^\uFEFF/, '');
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw new ReportFormatError(
      'the XML declares a DOCTYPE or entities, which DMARC reports never do (refused as an entity-expansion attack)'
    );
  }
  const recordTags = text.match(/<([A-Za-z_][\w.-]*:)?record[\s/>]/g)?.length ?? 0;
  if (recordTags > limits.maxRecords) {
    throw new ReportFormatError(`the report has ${recordTags} records, more than the ${limits.maxRecords} accepted`);
  }
  // The parser itself accepts broken XML (a missing end tag reads as empty); the validator is what refuses it. It is
  // marked deprecated in favour of a separate package, but ships and is maintained in this one (5.12 sped it up), so we
  // use it rather than add a dependency.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    throw new ReportFormatError(`the XML is malformed: ${cleanText(validation.err.msg)} (line ${validation.err.line})`);
  }
  let document: unknown;
  try {
    document = parser.parse(text);
  } catch (error) {
    throw new ReportFormatError(`the XML could not be read: ${cleanText((error as Error).message)}`);
  }
  const feedback = element(document, 'feedback', '');
  if (feedback === undefined) throw new ReportFormatError('the XML is not a DMARC aggregate report (no <feedback> element)');
  return readFeedback(feedback);
}

function readFeedback(feedback: Node): DmarcAggregateReport {
  const metadata = required(element(feedback, 'report_metadata', 'feedback'), 'feedback/report_metadata');
  const dateRange = required(element(metadata, 'date_range', 'report_metadata'), 'report_metadata/date_range');
  const begin = epochSeconds(requiredText(dateRange, 'begin', 'date_range'), 'date_range/begin');
  const end = epochSeconds(requiredText(dateRange, 'end', 'date_range'), 'date_range/end');
  if (end < begin) throw new ReportFormatError('date_range/end is before date_range/begin');
  const published = required(element(feedback, 'policy_published', 'feedback'), 'feedback/policy_published');
  const version = optionalText(feedback, 'version', 'feedback') ?? optionalText(metadata, 'version', 'report_metadata');
  const errors = list(metadata, 'error').map((item) => textOf(item, 'report_metadata/error'));
  const records = list(feedback, 'record').map((record, index) => readRecord(record, `record ${index + 1}`));
  return withoutUndefined({
    kind: 'dmarc' as const,
    orgName: requiredText(metadata, 'org_name', 'report_metadata'),
    reporterEmail: optionalText(metadata, 'email', 'report_metadata'),
    reportId: requiredText(metadata, 'report_id', 'report_metadata'),
    begin,
    end,
    version,
    extraContactInfo: optionalText(metadata, 'extra_contact_info', 'report_metadata'),
    generator: optionalText(metadata, 'generator', 'report_metadata'),
    errors: errors.length > 0 ? errors : undefined,
    domain: requiredText(published, 'domain', 'policy_published'),
    policy: readPolicy(published),
    records: mergeDuplicates(records),
  });
}

function readPolicy(published: Node): DmarcAggregateReport['policy'] {
  const pct = optionalText(published, 'pct', 'policy_published');
  const percent = pct === undefined ? undefined : nonNegativeInteger(pct, 'policy_published/pct');
  if (percent !== undefined && percent > 100) throw new ReportFormatError(`policy_published/pct is ${percent}, more than 100`);
  return withoutUndefined({
    // p is required by RFC 7489; a reporter that left it out saw no policy it could name.
    p: optionalText(published, 'p', 'policy_published') ?? 'none',
    sp: optionalText(published, 'sp', 'policy_published'),
    pct: percent,
    adkim: optionalText(published, 'adkim', 'policy_published'),
    aspf: optionalText(published, 'aspf', 'policy_published'),
    fo: optionalText(published, 'fo', 'policy_published'),
    np: optionalText(published, 'np', 'policy_published'),
    testing: optionalText(published, 'testing', 'policy_published'),
    discoveryMethod: optionalText(published, 'discovery_method', 'policy_published'),
  });
}

function readRecord(record: unknown, where: string): DmarcRecord {
  const recordNode = node(record, where);
  const row = required(element(recordNode, 'row', where), `${where}: row`);
  const evaluated = element(row, 'policy_evaluated', `${where}: row`);
  const identifiers = required(element(recordNode, 'identifiers', where), `${where}: identifiers`);
  const auth = element(recordNode, 'auth_results', where);
  const dkimAuth = auth === undefined ? [] : list(auth, 'dkim');
  const spfAuth = auth === undefined ? [] : list(auth, 'spf');
  if (dkimAuth.length + spfAuth.length > maxAuthResultsPerRecord) {
    throw new ReportFormatError(
      `${where} lists ${dkimAuth.length + spfAuth.length} DKIM and SPF results, more than the ${maxAuthResultsPerRecord} accepted`
    );
  }
  const dispositionText = evaluated === undefined ? undefined : optionalText(evaluated, 'disposition', `${where}: policy_evaluated`);
  const disposition = dispositionText?.toLowerCase() as DmarcRecord['disposition'] | undefined;
  return withoutUndefined({
    sourceIp: ipAddress(requiredText(row, 'source_ip', `${where}: row`), `${where}: source_ip`),
    count: nonNegativeInteger(requiredText(row, 'count', `${where}: row`), `${where}: count`),
    // Empty when the message had no usable From: the row still counts.
    headerFrom: requiredText(identifiers, 'header_from', `${where}: identifiers`, { mayBeEmpty: true }),
    envelopeFrom: optionalText(identifiers, 'envelope_from', `${where}: identifiers`),
    envelopeTo: optionalText(identifiers, 'envelope_to', `${where}: identifiers`),
    // Verdicts a reporter left out are "unknown" rather than a refusal: the counts are still worth keeping.
    dkim: authResult(evaluated === undefined ? undefined : optionalText(evaluated, 'dkim', `${where}: policy_evaluated`)),
    spf: authResult(evaluated === undefined ? undefined : optionalText(evaluated, 'spf', `${where}: policy_evaluated`)),
    disposition: disposition !== undefined && dispositions.has(disposition) ? disposition : 'unknown',
    dkimAuth: dkimAuth.map((item) => {
      const dkim = node(item, `${where}: auth_results/dkim`);
      const at = `${where}: auth_results/dkim`;
      return withoutUndefined({
        domain: requiredText(dkim, 'domain', at),
        selector: optionalText(dkim, 'selector', at),
        result: authResult(optionalText(dkim, 'result', at)),
        humanResult: optionalText(dkim, 'human_result', at),
      });
    }),
    spfAuth: spfAuth.map((item) => {
      const spf = node(item, `${where}: auth_results/spf`);
      const at = `${where}: auth_results/spf`;
      return withoutUndefined({
        domain: requiredText(spf, 'domain', at),
        scope: optionalText(spf, 'scope', at),
        result: authResult(optionalText(spf, 'result', at)),
        humanResult: optionalText(spf, 'human_result', at),
      });
    }),
  });
}

/**
 * Rows that say the same thing (same source, identifiers, verdicts and auth results) become one row with the counts
 * added up: some reporters split a source over several rows, and the totals are what the operator reads.
 */
function mergeDuplicates(records: DmarcRecord[]): DmarcRecord[] {
  const byContent = new Map<string, DmarcRecord>();
  for (const record of records) {
    const { count, ...rest } = record;
    const key = JSON.stringify(rest);
    const seen = byContent.get(key);
    if (seen === undefined) {
      byContent.set(key, { ...record });
    } else {
      seen.count = nonNegativeInteger(seen.count + count, `the count of the rows for ${record.sourceIp}`);
    }
  }
  return [...byContent.values()];
}

function authResult(value: string | undefined): AuthResult {
  const lower = value?.toLowerCase();
  return lower !== undefined && authResults.has(lower as AuthResult) ? (lower as AuthResult) : 'unknown';
}

function epochSeconds(value: string, field: string): Date {
  const seconds = nonNegativeInteger(value, field);
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new ReportFormatError(`${field} is ${describeValue(value)}, not a time`);
  return date;
}

// Reading the parsed tree, which is untrusted: any element may be missing, repeated (an array) or hold children where
// text is expected.

type Node = Record<string, unknown>;

function node(value: unknown, where: string): Node {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Node;
  throw new ReportFormatError(`${where} should hold elements, not ${describeValue(value)}`);
}

function element(parent: unknown, name: string, where: string): Node | undefined {
  if (typeof parent !== 'object' || parent === null || !Object.hasOwn(parent, name)) return undefined;
  const value = (parent as Node)[name];
  if (Array.isArray(value)) throw new ReportFormatError(`${where || 'the XML'} has ${value.length} <${name}> elements; a report has one`);
  // An empty container (`<auth_results/>`) comes out of the parser as empty text.
  if (value === '') return {};
  return node(value, `${where ? `${where}/` : ''}${name}`);
}

function list(parent: Node, name: string): unknown[] {
  if (!Object.hasOwn(parent, name)) return [];
  const value = parent[name];
  return Array.isArray(value) ? value : [value];
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new ReportFormatError(`the report has no ${field}`);
  return value;
}

function textOf(value: unknown, field: string): string {
  if (typeof value === 'string') return cleanText(value);
  // An empty element with attributes, or one holding only a comment, comes out as an empty object.
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0) return '';
  if (Array.isArray(value)) throw new ReportFormatError(`${field} appears ${value.length} times; a report has one`);
  throw new ReportFormatError(`${field} should be text, not ${describeValue(value)}`);
}

function optionalText(parent: Node, name: string, where: string): string | undefined {
  if (!Object.hasOwn(parent, name)) return undefined;
  const text = textOf(parent[name], `${where}/${name}`);
  return text === '' ? undefined : text;
}

function requiredText(parent: Node, name: string, where: string, options: { mayBeEmpty?: boolean } = {}): string {
  if (!Object.hasOwn(parent, name)) throw new ReportFormatError(`${where} has no <${name}>`);
  const text = textOf(parent[name], `${where}/${name}`);
  if (text === '' && options.mayBeEmpty !== true) throw new ReportFormatError(`${where}/${name} is empty`);
  return text;
}

/** The object without its undefined properties, so optional fields are absent rather than present-but-undefined. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
