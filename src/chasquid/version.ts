// chasquid versions and what changes between them.
//
// `chasquid -version` prints `chasquid <version> (source date: ...)`, where Debian's version carries its packaging
// suffix (`1.11-2+b2`, `1.15.0-1+b4`) and upstream builds may prefix a `v`. The behaviours mailops cares about:
//   - DKIM: up to 1.13 signing is done by the post-data hook calling `dkimsign`, with `domains/D/dkim_selector` and
//     `certs/D/dkim_privkey.pem`; from 1.14 chasquid signs itself with every `domains/D/dkim:SELECTOR.pem`.
//   - From 1.12 any error while reloading users or aliases stops the daemon; from 1.16 an invalid aliases line is one.
//   - `chasquid-util aliases-add` exists only up to 1.11.

import { failedError } from '../errors.ts';

export interface ChasquidVersion {
  /** As printed, packaging suffix included (e.g. `1.15.0-1+b4`). */
  full: string;
  major: number;
  minor: number;
  patch: number;
}

export type DkimLayout = 'hook' | 'builtin';

export function parseChasquidVersion(output: string): ChasquidVersion {
  const match = /chasquid\s+v?(([0-9]+)\.([0-9]+)(?:\.([0-9]+))?[^\s]*)/.exec(output);
  if (!match) {
    throw failedError('chasquid-version-unknown', `Could not read the chasquid version from "${output.trim().slice(0, 120)}".`, {
      hint: 'Check that chasquid is installed on the mail host and that "chasquid -version" works there.',
    });
  }
  return { full: match[1] ?? '', major: Number(match[2]), minor: Number(match[3]), patch: Number(match[4] ?? 0) };
}

export function atLeast(version: ChasquidVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

export function dkimLayout(version: ChasquidVersion): DkimLayout {
  return atLeast(version, 1, 14) ? 'builtin' : 'hook';
}

/** One line for people: where this version keeps DKIM keys. */
export function describeDkimLayout(layout: DkimLayout): string {
  return layout === 'builtin'
    ? 'built-in signing: domains/<domain>/dkim:<selector>.pem, loaded at start-up'
    : 'post-data hook with dkimsign: domains/<domain>/dkim_selector and certs/<domain>/dkim_privkey.pem';
}
