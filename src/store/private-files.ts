// The state directory holds what nobody else on the machine may read: the probe sender's password (a working SMTP
// login that sends mail signed as the domain), the audit trail, the ACME account key. What mailops creates there is
// its owner's alone — directories 0700, files 0600 — whatever the umask it was started with: a umask only takes
// permissions away, so a permissive one (000, 022) must not widen them and a strict one (0277) must not leave
// mailops unable to write its own files. Modes are therefore set outright after creating, not left to the umask.

import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

/** Creates `directory` and any missing parents, each 0700; an existing directory is left as it is. */
export function makePrivateDirectory(directory: string): void {
  const absolute = path.resolve(directory);
  const first = mkdirSync(absolute, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  for (let created = absolute; ; created = path.dirname(created)) {
    chmodSync(created, 0o700);
    if (created === first || created === path.dirname(created)) break;
  }
}

/** Creates `file` empty with mode 0600 unless it exists; true when it was created. */
export function createPrivateFile(file: string): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    fchmodSync(descriptor, 0o600);
  } finally {
    closeSync(descriptor);
  }
  return true;
}
