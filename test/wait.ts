// Waiting in tests: for a named condition, never for a bare length of time.
//
// A test that sleeps "long enough" is slow where the machine is fast and flaky where it is slow, and when it fails it
// says nothing about what it was waiting for. `waitFor` polls the condition the test needs until a deadline and, if
// the condition never holds, fails naming it ("timed out after 8000 ms waiting for chasquid to accept …").
// `withDeadline` does the same for a promise the test already holds (a process's exit).
//
// A few waits are about time itself: a command that must take a while, a pause nothing outside the code under test
// can show the end of, a window in which something must NOT happen. Those use `elapse` and `happensWithin`, named for
// what the time stands for, with a comment saying why no condition can replace it.

export interface WaitOptions {
  /** How long to keep trying (default 10 s). */
  timeoutMs?: number;
  /** The pause between two looks (default 20 ms). */
  intervalMs?: number;
  /** What to add to the failure: a log, the last answer seen. */
  diagnostics?: () => string;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `condition` until it returns a truthy value, and returns that value; after `timeoutMs`, fails with
 * "timed out after … waiting for <what>". An error thrown by the condition ends the wait at once (a condition that can
 * fail while not ready yet catches its own errors).
 */
export async function waitFor<T>(what: string, condition: () => T | Promise<T>, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 20, diagnostics } = options;
  const started = Date.now();
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() - started > timeoutMs) {
      const details = diagnostics?.();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${details ? `\n${details}` : ''}`);
    }
    await pause(intervalMs);
  }
}

/** Waits for `promise` to settle, at most `timeoutMs`; then fails with "timed out after … waiting for <what>". */
export async function withDeadline<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `condition` comes true within `windowMs` (polling). For checks that something does NOT happen: the window
 * is the point, and `what` names what would have happened, e.g. `happensWithin('the pipe alias to run', …)`.
 */
export async function happensWithin(
  _what: string,
  condition: () => boolean | Promise<boolean>,
  windowMs: number,
  intervalMs = 50
): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return true;
    if (Date.now() - started > windowMs) return false;
    await pause(intervalMs);
  }
}

/**
 * Lets `ms` pass, on purpose: for waits whose point is the time itself (see the top of this file). `what` names it
 * for the reader, e.g. `await elapse('a slow suggestion source', 2400)`.
 */
export async function elapse(_what: string, ms: number): Promise<void> {
  await pause(ms);
}

/** Whether the process `pid` is gone (exited and reaped). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
