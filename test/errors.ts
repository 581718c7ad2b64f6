// The MailopsError an action throws (for tests of refusals); fails the test when it throws nothing or something else.

import { MailopsError } from '../src/errors.ts';

export function mailopsErrorOf(action: () => unknown): MailopsError {
  try {
    action();
  } catch (error) {
    if (error instanceof MailopsError) return error;
    throw error;
  }
  throw new Error('expected a MailopsError');
}
