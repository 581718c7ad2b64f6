// The running chasquid daemon: is it up, as which user, and which binary version.
//
// A host may run several chasquid processes (tests do; so can a host with a staging instance), so a process counts
// only when its configuration directory — `-config_dir` (or `--config_dir`), `/etc/chasquid` by default — is ours.
// Where systemd runs, the unit's state is reported as well.

import path from 'node:path';
import type { MailHost } from '../host/mail-host.ts';
import { RemoteCommandError } from '../host/transport.ts';
import { lockLostError, noLeaseStatus, notFound } from '../host/verbs.ts';
import { assertRestartable } from './preflight.ts';
import { parseChasquidVersion, type ChasquidVersion } from './version.ts';

export interface DaemonProcess {
  pid: number;
  user: string;
}

export interface DaemonState {
  running: boolean;
  processes: DaemonProcess[];
  /** `systemctl is-active chasquid`, where systemd runs. */
  systemd: string | undefined;
}

/** The config directory a chasquid command line uses. */
export function configDirOf(args: readonly string[]): string {
  for (let index = 1; index < args.length; index += 1) {
    const arg = args[index] ?? '';
    const match = /^--?config_dir(?:=(.*))?$/.exec(arg);
    if (match) return path.posix.normalize(match[1] ?? args[index + 1] ?? '');
  }
  return '/etc/chasquid';
}

/** chasquid processes in `ps -eo pid=,user=,args=` output that use `configDir`. */
export function findDaemonProcesses(psOutput: string, configDir: string): DaemonProcess[] {
  const wanted = path.posix.normalize(configDir);
  const processes: DaemonProcess[] = [];
  for (const line of psOutput.split('\n')) {
    const match = /^\s*([0-9]+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const args = (match[3] ?? '').split(/\s+/);
    if (path.posix.basename(args[0] ?? '') !== 'chasquid') continue;
    if (configDirOf(args) === wanted) processes.push({ pid: Number(match[1]), user: match[2] ?? '' });
  }
  return processes;
}

export async function daemonState(host: MailHost, configDir: string): Promise<DaemonState> {
  const ps = await host.verbs.callOk('processes');
  const processes = findDaemonProcesses(ps.stdout.toString('utf8'), configDir);
  const systemd = await host.verbs.call('systemd-state');
  return {
    running: processes.length > 0,
    processes,
    systemd: systemd.code === notFound ? undefined : systemd.stdout.toString('utf8').trim() || 'unknown',
  };
}

/** The version of the chasquid on the host's PATH, once per connection. */
export function chasquidVersion(host: MailHost): Promise<ChasquidVersion> {
  return host.once('chasquid-version', async () => {
    const result = await host.verbs.callOk(
      'version',
      [],
      {},
      "Check that chasquid is installed on the mail host and on the SSH user's PATH."
    );
    return parseChasquidVersion(`${result.stdout.toString('utf8')}\n${result.stderr}`);
  });
}

/**
 * Restarts chasquid with CHASQUID_RESTART (an argument vector, no shell) and fails with its error output. Given the
 * configuration directory, it first checks what chasquid will load (preflight.ts) and refuses — nothing restarted,
 * the error naming each file and its problem — when chasquid would not come back. A restart is a change: it runs
 * under the host lock (the host refuses it otherwise).
 */
export async function restartDaemon(host: MailHost, command: readonly string[], chasquidDir: string): Promise<void> {
  await assertRestartable(host, chasquidDir, await chasquidVersion(host));
  const hint = 'chasquid did not restart cleanly; check its log on the host (journalctl -u chasquid) and CHASQUID_RESTART.';
  let result = await host.verbs.call('restart', command, { timeoutMs: 120_000 });
  // A connection lost during the restart leaves its outcome unknown; restarting again is harmless and tells.
  if (result.code === null) result = await host.verbs.call('restart', command, { timeoutMs: 120_000 });
  if (result.code === noLeaseStatus) throw lockLostError(result);
  if (result.code !== 0) throw new RemoteCommandError('mailops-host restart', result, hint);
}
