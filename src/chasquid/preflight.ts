// What chasquid will load, checked before mailops restarts it: a restart into a broken state takes mail down (a
// mismatched certificate pair crash-loops chasquid with "private key does not match"; a chasquid.conf that does not
// parse stops it at once), so mailops refuses the restart and names the file and what is wrong with it.
//
// Checked, in chasquid's configuration directory:
//   chasquid.conf         exists and parses as chasquid parses it (config-file.ts, chasquidConfProblems);
//   certs/<name>/         every directory holding fullchain.pem or privkey.pem holds both, and the key belongs to the
//                         certificate (acme/certificate.ts, the one pair check) — chasquid loads every such pair;
//   domains/<d>/          1.14+ (built-in signing): every dkim:<selector>.pem is a private key (loaded at start-up);
//                         1.11–1.13 (hook): a dkim_selector names a selector only when certs/<d>/dkim_privkey.pem
//                         holds a private key (the hook signs every message with it).
// `restartDaemon` (daemon.ts) runs this before every restart; `assertRestartable` is the function to call.

import { createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { installedPairProblems } from '../acme/certificate.ts';
import { pairDirLabel, readInstalledPair } from '../acme/installed-pair.ts';
import { failedError } from '../errors.ts';
import type { MailHost } from '../host/mail-host.ts';
import { chasquidConfProblems } from './config-file.ts';
import { hookKeyFile, hookSelectorFile } from './dkim-files.ts';
import { ChasquidPaths } from './paths.ts';
import { atLeast, dkimLayout, type ChasquidVersion } from './version.ts';

export interface PreflightProblem {
  /** The file, relative to CHASQUID_DIR. */
  file: string;
  /** What is wrong with it, for people. */
  problem: string;
}

/** Newest chasquid whose Config fields are known (config-file.ts); newer ones may have fields we do not know. */
const knownConfigVersion = { major: 1, minor: 15 };

function knowsAllFields(version: ChasquidVersion): boolean {
  return !atLeast(version, knownConfigVersion.major, knownConfigVersion.minor + 1);
}

function parsesAsKey(pem: string): string | undefined {
  try {
    createPrivateKey(pem);
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

async function configProblems(host: MailHost, paths: ChasquidPaths, version: ChasquidVersion): Promise<PreflightProblem[]> {
  const text = await host.files.read(paths.configFile);
  if (text === undefined) return [{ file: 'chasquid.conf', problem: 'it does not exist; chasquid does not start without it' }];
  return chasquidConfProblems(text.toString('utf8'), { knowsAllFields: knowsAllFields(version) }).map((problem) => ({
    file: 'chasquid.conf',
    problem: `${problem} — chasquid does not start with a chasquid.conf it cannot parse`,
  }));
}

async function certificateProblems(host: MailHost, paths: ChasquidPaths): Promise<PreflightProblem[]> {
  const entries = (await host.files.list(paths.certsDir)) ?? [];
  const names = entries.filter((entry) => entry.type === 'directory' || entry.type === 'symlink').map((entry) => entry.name);
  const found = await Promise.all(
    names.map(async (name) => {
      const files = await readInstalledPair(host, paths, name);
      // A directory with neither file is not a certificate (the 1.11 DKIM hook keeps certs/<domain>/dkim_privkey.pem).
      if (files.fullchain === undefined && files.privkey === undefined) return [];
      const { problems } = installedPairProblems(pairDirLabel(name), files);
      // Names are not chasquid's business at start-up: it loads any pair that matches.
      return problems
        .filter((problem) => !/ does not cover /.test(problem))
        .map((problem) => ({ file: `${pairDirLabel(name)}/`, problem }));
    })
  );
  return found.flat();
}

async function dkimProblems(host: MailHost, paths: ChasquidPaths, version: ChasquidVersion): Promise<PreflightProblem[]> {
  const domains = ((await host.files.list(paths.domainsDir)) ?? [])
    .filter((entry) => entry.type === 'directory')
    .map((entry) => entry.name);
  const relative = (file: string) => path.posix.relative(paths.root, file);
  const perDomain = await Promise.all(
    domains.map(async (domain): Promise<PreflightProblem[]> => {
      if (dkimLayout(version) === 'builtin') {
        const keys = ((await host.files.list(paths.domainDir(domain))) ?? []).filter(
          (entry) => entry.type === 'file' && /^dkim:.+\.pem$/.test(entry.name)
        );
        const problems = await Promise.all(
          keys.map(async (entry) => {
            const file = path.posix.join(paths.domainDir(domain), entry.name);
            const reason = parsesAsKey((await host.files.read(file))?.toString('utf8') ?? '');
            return reason === undefined
              ? []
              : [{ file: relative(file), problem: `it is not a private key (${reason}); chasquid does not start with it` }];
          })
        );
        return problems.flat();
      }
      const [selectorText, key] = await Promise.all([
        host.files.read(hookSelectorFile(paths, domain)),
        host.files.read(hookKeyFile(paths, domain)),
      ]);
      const selector = selectorText?.toString('utf8').trim();
      if (!selector) return [];
      if (key === undefined) {
        return [
          {
            file: relative(hookKeyFile(paths, domain)),
            problem: `it is missing, but ${relative(hookSelectorFile(paths, domain))} names the selector ${selector}: every message of ${domain} would fail to be signed`,
          },
        ];
      }
      const reason = parsesAsKey(key.toString('utf8'));
      return reason === undefined
        ? []
        : [
            {
              file: relative(hookKeyFile(paths, domain)),
              problem: `it is not a private key (${reason}): every message of ${domain} would fail to be signed`,
            },
          ];
    })
  );
  return perDomain.flat();
}

/** Everything that would keep chasquid from starting, or from signing, after a restart now (empty: none). */
export async function preflightProblems(host: MailHost, chasquidDir: string, version: ChasquidVersion): Promise<PreflightProblem[]> {
  const paths = new ChasquidPaths(chasquidDir);
  const found = await Promise.all([
    configProblems(host, paths, version),
    certificateProblems(host, paths),
    dkimProblems(host, paths, version),
  ]);
  return found.flat();
}

/** One sentence naming each problem: `chasquid.conf: line 3: …; certs/mail.d/: …`. */
export function describePreflight(problems: readonly PreflightProblem[]): string {
  return problems.map(({ file, problem }) => (problem.startsWith(file.replace(/\/$/, '')) ? problem : `${file}: ${problem}`)).join('; ');
}

/** Refuses (a failed operation, nothing restarted) when chasquid would not come back, naming each file and its problem. */
export async function assertRestartable(host: MailHost, chasquidDir: string, version: ChasquidVersion): Promise<void> {
  const problems = await preflightProblems(host, chasquidDir, version);
  if (problems.length === 0) return;
  throw failedError(
    'restart-refused',
    `chasquid was not restarted, because it would not come back (or not sign) with what is in ${chasquidDir}: ${describePreflight(problems)}.`,
    {
      hint: 'Fix the file named (a certificate pair: mailops cert-renew; chasquid.conf: correct the line named, or restore it from .mailops-backup/), then run the command again.',
    }
  );
}
