// SMTP TLS reports (RFC 8460 section 4): the JSON a sending MTA writes about the TLS sessions it tried with our MX.
//
//   { "organization-name", "date-range": { "start-datetime", "end-datetime" }, "contact-info", "report-id",
//     "policies": [ { "policy": { "policy-type", "policy-domain", … },
//                     "summary": { "total-successful-session-count", "total-failure-session-count" },
//                     "failure-details": [ { "result-type", "sending-mta-ip", "receiving-mx-hostname",
//                                            "failed-session-count", … } ] } ] }
//
// The JSON is untrusted: every field is checked for its type, text is trimmed and cut to a length fit for Discord, and
// the policies and failure details together are capped at the report-row limit. Unknown fields are ignored, as the
// RFC asks of receivers. Anything missing or malformed is a ReportFormatError that names the field.

import { ReportFormatError } from './format-error.ts';
import { defaultReportLimits, type ReportLimits } from './limits.ts';
import { cleanText, describeValue, ipAddress, nonNegativeInteger } from './report-values.ts';
import type { TlsFailureDetail, TlsPolicyResult, TlsReport } from './types.ts';

type JsonObject = Record<string, unknown>;

export function parseTlsReport(json: Buffer | string, limits: Pick<ReportLimits, 'maxRecords'> = defaultReportLimits): TlsReport {
  const source = (typeof json === 'string' ? json : json.toString('utf8')).replace(/^\uFEFF/, '');
  let document: unknown;
  try {
    document = JSON.parse(source);
  } catch (error) {
    throw new ReportFormatError(`the TLS report is not valid JSON (${cleanText((error as Error).message)})`);
  }
  const report = object(document, 'the TLS report');
  const dateRange = object(report['date-range'], 'date-range');
  const begin = dateTime(dateRange['start-datetime'], 'date-range/start-datetime');
  const end = dateTime(dateRange['end-datetime'], 'date-range/end-datetime');
  if (end < begin) throw new ReportFormatError('date-range/end-datetime is before date-range/start-datetime');
  const policies = array(report.policies, 'policies');
  if (policies.length > limits.maxRecords) {
    throw new ReportFormatError(`the TLS report has ${policies.length} policies, more than the ${limits.maxRecords} accepted`);
  }
  let rows = policies.length;
  const results = policies.map((entry, index): TlsPolicyResult => {
    const where = `policies[${index}]`;
    const item = object(entry, where);
    const policy = object(item.policy, `${where}/policy`);
    const summary = object(item.summary, `${where}/summary`);
    const details = item['failure-details'] === undefined ? [] : array(item['failure-details'], `${where}/failure-details`);
    rows += details.length;
    if (rows > limits.maxRecords) {
      throw new ReportFormatError(`the TLS report has more than ${limits.maxRecords} policies and failure details together`);
    }
    return {
      policyType: text(policy['policy-type'], `${where}/policy/policy-type`),
      policyDomain: text(policy['policy-domain'], `${where}/policy/policy-domain`),
      success: nonNegativeInteger(summary['total-successful-session-count'], `${where}/summary/total-successful-session-count`),
      failure: nonNegativeInteger(summary['total-failure-session-count'], `${where}/summary/total-failure-session-count`),
      failures: details.map((detail, at) => failureDetail(detail, `${where}/failure-details[${at}]`)),
    };
  });
  const contact = report['contact-info'] === undefined ? undefined : text(report['contact-info'], 'contact-info');
  return {
    kind: 'tlsrpt',
    orgName: text(report['organization-name'], 'organization-name'),
    reportId: text(report['report-id'], 'report-id'),
    ...(contact === undefined ? {} : { contact }),
    begin,
    end,
    policies: results,
  };
}

function failureDetail(value: unknown, where: string): TlsFailureDetail {
  const detail = object(value, where);
  const sendingMtaIp = detail['sending-mta-ip'];
  const receivingMxHostname = detail['receiving-mx-hostname'];
  return {
    resultType: text(detail['result-type'], `${where}/result-type`),
    ...(sendingMtaIp === undefined
      ? {}
      : { sendingMtaIp: ipAddress(text(sendingMtaIp, `${where}/sending-mta-ip`), `${where}/sending-mta-ip`) }),
    ...(receivingMxHostname === undefined ? {} : { receivingMxHostname: text(receivingMxHostname, `${where}/receiving-mx-hostname`) }),
    count: nonNegativeInteger(detail['failed-session-count'], `${where}/failed-session-count`),
  };
}

function object(value: unknown, field: string): JsonObject {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as JsonObject;
  throw new ReportFormatError(`${field} is ${describeValue(value)}, not a JSON object`);
}

function array(value: unknown, field: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new ReportFormatError(`${field} is ${describeValue(value)}, not a JSON list`);
}

/** Non-empty text, trimmed and capped. */
function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new ReportFormatError(`${field} is ${describeValue(value)}, not text`);
  const cleaned = cleanText(value);
  if (cleaned === '') throw new ReportFormatError(`${field} is empty`);
  return cleaned;
}

/** RFC 3339 date-time, as RFC 8460 writes them ("2016-04-01T00:00:00Z"). */
function dateTime(value: unknown, field: string): Date {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/.test(value.trim())) {
    const date = new Date(value.trim());
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new ReportFormatError(`${field} is ${describeValue(value)}, not an RFC 3339 date-time`);
}
