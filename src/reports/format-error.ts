// The one way a report parser says "this is not a report we can read": a sentence for the operator, naming what was
// wrong in the sender's data (never a stack trace, never our internals). readReportMessage turns it into the reason a
// message was set aside.

export class ReportFormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportFormatError';
  }
}
