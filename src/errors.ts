// The one error type mailops shows to operators.
//
// Every failure that reaches a person carries a stable `code` (scripts match on it), a sentence that says what
// happened, and a hint that says what to do next. The code's kind decides the exit status of the CLI:
//   usage   — invalid input, usage or configuration; nothing was changed anywhere (exit 2)
//   refused — confirmation missing or the actor is not allowed (exit 3)
//   failed  — the operation failed on the host, in DNS or at the CA (exit 1)
//   conflict — the host changed underneath and the change could not be re-applied; nothing of it was left
//              half-done (exit 4)

export type ErrorKind = 'usage' | 'refused' | 'failed' | 'conflict';

export const exitCodes: Record<ErrorKind, number> = { failed: 1, usage: 2, refused: 3, conflict: 4 };

export class MailopsError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MailopsError';
    this.kind = kind;
    this.code = code;
    this.hint = options.hint;
  }

  get exitCode(): number {
    return exitCodes[this.kind];
  }

  /** The message and the hint, as one or two lines for a person. */
  get explanation(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }
}

export function usageError(code: string, message: string, hint?: string): MailopsError {
  return new MailopsError('usage', code, message, hint === undefined ? {} : { hint });
}

export function refusedError(code: string, message: string, hint?: string): MailopsError {
  return new MailopsError('refused', code, message, hint === undefined ? {} : { hint });
}

export function failedError(code: string, message: string, options: { hint?: string; cause?: unknown } = {}): MailopsError {
  return new MailopsError('failed', code, message, options);
}

export function conflictError(code: string, message: string, options: { hint?: string; cause?: unknown } = {}): MailopsError {
  return new MailopsError('conflict', code, message, options);
}

/** SQLITE_BUSY or SQLITE_LOCKED (any extended code) from node:sqlite: another connection held the lock too long. */
export function isStateDatabaseBusy(error: unknown): boolean {
  const errcode = (error as { code?: unknown; errcode?: unknown } | null)?.errcode;
  return (
    (error as { code?: unknown } | null)?.code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number' && [5, 6].includes(errcode & 0xff)
  );
}

/** The state database stayed locked: an operational failure (exit 1) that goes away by itself, not bad input. */
export function stateDatabaseBusy(file: string | undefined, cause: unknown): MailopsError {
  return failedError(
    'state-db-busy',
    `The state database${file === undefined ? '' : ` ${file}`} is locked: another mailops process (the bot or a command) kept it busy for longer than mailops waits.`,
    {
      hint: 'Run the command again in a moment. If it stays locked, look for a mailops process that hangs and stop it.',
      cause,
    }
  );
}

/** Any thrown value as a MailopsError: our own pass through, anything else is an unexpected failure. */
export function asMailopsError(error: unknown): MailopsError {
  if (error instanceof MailopsError) return error;
  if (isStateDatabaseBusy(error)) return stateDatabaseBusy(undefined, error);
  const detail = error instanceof Error ? error.message : String(error);
  return failedError('internal', `Unexpected error: ${detail}`, {
    hint: 'This is a bug in mailops or an unforeseen state of the host; the log has the details.',
    cause: error,
  });
}
