// The result of user-add and passwd in a terminal: a generated password is shown once, with what happened.

import type { PasswordResult } from '../../ops/senders.ts';

export function renderPassword(result: PasswordResult, verb: string): string {
  const lines = [result.password === undefined ? `${verb} ${result.address} with the password given.` : `${verb} ${result.address}.`];
  if (result.password !== undefined) lines.push(`Password (shown once, store it now): ${result.password}`);
  if (result.restarted) lines.push(`chasquid was restarted (${result.restartReason ?? 'to load the change'}).`);
  for (const repair of result.repaired) lines.push(`Repaired so that chasquid can read it: ${repair}`);
  lines.push('chasquid picks up the change within 30 seconds.');
  return lines.join('\n');
}
