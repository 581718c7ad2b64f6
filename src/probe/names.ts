// The addresses mailops owns in every domain it manages. They are ordinary chasquid entries, listed by `users` and
// `aliases` and marked as mailops's, and recreated when someone removes them: the probe's sender and inbox, and the
// report address (REPORT_ADDRESS, src/ops/report-inbox.ts) where receivers send DMARC and TLS reports.

/** The sender that submits probe messages (SMTP AUTH on the submission port). */
export const probeSenderLocal = 'mailops-probe';

/** The alias whose pipe captures probe messages on the host, after chasquid has signed them. */
export const probeInboxLocal = 'mailops-probe-inbox';

/** Whether `local` is one of mailops's own addresses; `reportLocal` is REPORT_ADDRESS. */
export function isMailopsOwned(local: string, reportLocal: string): boolean {
  return local === probeSenderLocal || local === probeInboxLocal || local === reportLocal;
}
