// What mailops keeps of the reports receivers send (DMARC aggregate, RFC 7489 appendix C and its successor; SMTP TLS
// reports, RFC 8460) and of chasquid's mail log. Plain data: parsed from untrusted input by read-message.ts, stored by
// src/store/reports.ts, summed up by src/ops/reports.ts.

export type AuthResult = 'pass' | 'fail' | 'none' | 'neutral' | 'softfail' | 'temperror' | 'permerror' | 'policy' | 'unknown';

/** One <record> row: `count` messages from one source IP with the same results. */
export interface DmarcRecord {
  sourceIp: string;
  count: number;
  headerFrom: string;
  /** policy_evaluated: the DMARC verdict for DKIM and SPF (pass means aligned and passing). */
  dkim: AuthResult;
  spf: AuthResult;
  disposition: 'none' | 'quarantine' | 'reject' | 'unknown';
  /** auth_results: the raw DKIM signatures and SPF checks the receiver saw. */
  dkimAuth: Array<{ domain: string; selector?: string; result: AuthResult; humanResult?: string }>;
  spfAuth: Array<{ domain: string; scope?: string; result: AuthResult; humanResult?: string }>;
  /** identifiers: the envelope domains, when the reporter gives them. */
  envelopeFrom?: string;
  envelopeTo?: string;
}

export interface DmarcAggregateReport {
  kind: 'dmarc';
  /** report_metadata: the reporter (org_name, e.g. "google.com") and its report id. */
  orgName: string;
  reporterEmail?: string;
  reportId: string;
  begin: Date;
  end: Date;
  /** The report format's <version> ("1.0" in the IETF aggregate-reporting format), when given. */
  version?: string;
  extraContactInfo?: string;
  /** report_metadata/generator (IETF format): the software that wrote the report. */
  generator?: string;
  /** report_metadata/error: problems the reporter met while evaluating the policy. */
  errors?: string[];
  /** policy_published. */
  domain: string;
  policy: {
    p: string;
    sp?: string;
    pct?: number;
    adkim?: string;
    aspf?: string;
    fo?: string;
    /** IETF format: the policy for non-existent subdomains, the testing flag ("y"/"n") and how the policy was found. */
    np?: string;
    testing?: string;
    discoveryMethod?: string;
  };
  records: DmarcRecord[];
}

export interface TlsFailureDetail {
  resultType: string;
  sendingMtaIp?: string;
  receivingMxHostname?: string;
  count: number;
}

export interface TlsPolicyResult {
  policyType: string;
  policyDomain: string;
  success: number;
  failure: number;
  failures: TlsFailureDetail[];
}

export interface TlsReport {
  kind: 'tlsrpt';
  orgName: string;
  reportId: string;
  contact?: string;
  begin: Date;
  end: Date;
  policies: TlsPolicyResult[];
}

export type ParsedReport = DmarcAggregateReport | TlsReport;

/** What reading one spooled message gave: the reports in it, or why it was set aside. */
export type ReportMessageResult = { status: 'reports'; reports: ParsedReport[] } | { status: 'rejected'; reason: string };
