// mailops-host as the transports call it: the project's copy of deploy/mailops-host, its version, and the two ways
// to hand it words (see transport.ts for the modes).

import { readFileSync } from 'node:fs';
import { failedError } from '../errors.ts';

export const helperSource = readFileSync(new URL('../../deploy/mailops-host', import.meta.url), 'utf8');
export const helperVersion = /^version=([0-9]+)$/m.exec(helperSource)?.[1] ?? '0';

/**
 * Shell mode: the script itself, run by `shell` with these words as its arguments ($0 is its name). Over SSH the
 * login shell finds `sh` on the host's PATH; locally mailops names /bin/sh.
 */
export function shellArgv(words: readonly string[], shell = 'sh'): string[] {
  return [shell, '-c', helperSource, 'mailops-host', ...words];
}

/** Restricted mode: each word base64-encoded, so that nothing in it means anything to a shell or to sudo. */
export function encodeWord(word: string): string {
  return Buffer.from(word, 'utf8').toString('base64');
}

/** The words that ask an installed mailops-host who it is (answered `mailops-host <version> restricted`). */
export const helloWords = ['hello'];

/**
 * Reads the answer to `hello`: 'restricted' when an installed mailops-host of this version answered, undefined when
 * the answer is not mailops-host's; fails when it is another version.
 */
export function restrictedHello(stdout: Buffer): 'restricted' | undefined {
  const answer = /^mailops-host ([0-9]+) restricted$/m.exec(stdout.toString('utf8'));
  if (answer === null) return undefined;
  if (answer[1] !== helperVersion) {
    throw failedError(
      'host-helper-outdated',
      `The mail host runs mailops-host version ${answer[1]}, and this mailops needs version ${helperVersion}.`,
      { hint: 'Run deploy/host-setup.sh from this version of mailops on the mail host again.' }
    );
  }
  return 'restricted';
}
