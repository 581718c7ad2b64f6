// What to do when a DNS change was sent but its answer was lost (a timeout, a dropped connection): the change may or
// may not have been applied, and saying either without asking would be a guess. So we ask the source of truth — the
// primary name server, or the provider's API — until it answers or the time is up, and report what it says:
// applied (the call succeeds), not applied (`dns-update-not-applied`), or unknown (`dns-update-unverified`).

import type { MailopsError } from '../errors.ts';

export interface LostAnswer {
  /** Whether the record is there now (throws when asking fails). */
  isThere: (remainingMs: number) => Promise<boolean>;
  /** Whether the change meant to make it be there (add) or not (remove). */
  wanted: boolean;
  timeoutMs: number;
  firstPauseMs: number;
  maxPauseMs: number;
  /** The source of truth shows the change: it was applied. */
  applied: () => void;
  notApplied: () => MailopsError;
  unverified: (lastError: string) => MailopsError;
}

export async function settleLostAnswer(lost: LostAnswer): Promise<void> {
  const deadline = Date.now() + lost.timeoutMs;
  let pause = lost.firstPauseMs;
  let lastError = '';
  for (;;) {
    let there: boolean | undefined;
    try {
      there = await lost.isThere(Math.max(1000, deadline - Date.now()));
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (there === lost.wanted) return lost.applied();
    if (there !== undefined) throw lost.notApplied();
    if (Date.now() + pause >= deadline) throw lost.unverified(lastError);
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, lost.maxPauseMs);
  }
}
