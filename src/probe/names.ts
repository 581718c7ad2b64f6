// The addresses mailops owns in every domain it probes. They are ordinary chasquid entries, listed by `users` and
// `aliases` and marked as mailops's, and recreated when someone removes them.

/** The sender that submits probe messages (SMTP AUTH on the submission port). */
export const probeSenderLocal = 'mailops-probe';

/** The alias whose pipe captures probe messages on the host, after chasquid has signed them. */
export const probeInboxLocal = 'mailops-probe-inbox';

export function isMailopsOwned(local: string): boolean {
  return local === probeSenderLocal || local === probeInboxLocal;
}
