// Where a domain's DKIM keys live, by chasquid version (see version.ts, dkimLayout):
//
//   builtin (1.14+)  domains/<domain>/dkim:<selector>.pem — every such key signs; keys load when chasquid starts.
//   hook (≤ 1.13)    domains/<domain>/dkim_selector (the selector, one line) and certs/<domain>/dkim_privkey.pem —
//                    one key at a time, read by the post-data hook for every message (no restart needed).
//
// The hook layout needs the post-data hook to call dkimsign and dkimsign to be installed (Debian: python3-dkim);
// `hookProblems` says what is missing and how to fix it.

import path from 'node:path';
import type { MailHost } from '../host/mail-host.ts';
import type { ChasquidPaths } from './paths.ts';
import type { DkimLayout } from './version.ts';

export interface InstalledDkimKey {
  selector: string;
  /** The key file on the host. */
  file: string;
  /** The private key (PEM). A secret: never log it. */
  privatePem: string;
  /** Whether chasquid signs with it now. */
  active: boolean;
}

export interface DkimFiles {
  layout: DkimLayout;
  keys: InstalledDkimKey[];
  /** Hook layout: the selector file and its content (undefined when missing). */
  selectorFile?: string;
  selector?: string;
}

const builtinKeyName = /^dkim:([a-z0-9][a-z0-9-]*)\.pem$/i;

export function builtinKeyFile(paths: ChasquidPaths, domain: string, selector: string): string {
  return path.posix.join(paths.domainDir(domain), `dkim:${selector}.pem`);
}

export function hookKeyFile(paths: ChasquidPaths, domain: string): string {
  return path.posix.join(paths.certificateDir(domain), 'dkim_privkey.pem');
}

export function hookSelectorFile(paths: ChasquidPaths, domain: string): string {
  return path.posix.join(paths.domainDir(domain), 'dkim_selector');
}

export async function readDkimFiles(host: MailHost, paths: ChasquidPaths, domain: string, layout: DkimLayout): Promise<DkimFiles> {
  if (layout === 'builtin') {
    const entries = (await host.files.list(paths.domainDir(domain))) ?? [];
    const keys = await Promise.all(
      entries
        .filter((entry) => entry.type === 'file' && builtinKeyName.test(entry.name))
        .map(async (entry) => {
          const file = path.posix.join(paths.domainDir(domain), entry.name);
          const content = await host.files.read(file);
          return {
            selector: (builtinKeyName.exec(entry.name) as RegExpExecArray)[1] as string,
            file,
            privatePem: content?.toString('utf8') ?? '',
            active: true,
          };
        })
    );
    return { layout, keys };
  }
  const selectorFile = hookSelectorFile(paths, domain);
  const keyFile = hookKeyFile(paths, domain);
  const [selectorText, key] = await Promise.all([host.files.read(selectorFile), host.files.read(keyFile)]);
  const selector = selectorText?.toString('utf8').trim() || undefined;
  const keys =
    selector !== undefined && key !== undefined ? [{ selector, file: keyFile, privatePem: key.toString('utf8'), active: true }] : [];
  return { layout, keys, selectorFile, ...(selector === undefined ? {} : { selector }) };
}

/** What keeps the 1.11 hook from signing, each with its fix; empty when it can sign. */
export async function hookProblems(host: MailHost, paths: ChasquidPaths): Promise<string[]> {
  const hook = path.posix.join(paths.root, 'hooks', 'post-data');
  const problems: string[] = [];
  const [stat, text, dkimsign] = await Promise.all([host.files.stat(hook), host.files.read(hook), host.verbs.call('which', ['dkimsign'])]);
  if (stat === undefined)
    problems.push(
      `${hook} does not exist: install chasquid's example hook there (Debian: /usr/share/doc/chasquid/examples/hooks/post-data) and make it executable`
    );
  else if ((stat.mode & 0o111) === 0) problems.push(`${hook} is not executable: chmod 755 ${hook}`);
  if (text !== undefined && !text.toString('utf8').includes('dkimsign'))
    problems.push(`${hook} does not call dkimsign: add the DKIM section of chasquid's example hook to it`);
  if (dkimsign.code !== 0) problems.push('dkimsign is not installed on the mail host: apt install python3-dkim (dkimpy)');
  return problems;
}
