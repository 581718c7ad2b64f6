// Making sure chasquid's daemon can read what we write.
//
// On Debian the daemon runs as user `chasquid`, while mailops (and chasquid-util) usually act as root. A file that
// root creates is root:root, and chasquid-util writes users files with mode 0660: the daemon then cannot read the
// senders of that domain and refuses every login, silently. So after every write we check the file (and the
// directory it sits in) from the daemon's point of view and, where it could not read, give the file the daemon's
// group with group read permission — never world permissions for the users file, which holds password hashes.

import path from 'node:path';
import type { RemoteStat } from '../host/files.ts';
import type { MailHost } from '../host/mail-host.ts';
import { daemonState } from './daemon.ts';

export interface DaemonAccount {
  user: string;
  group: string;
}

/** The account the daemon runs as: the running process's user, else the packaged `chasquid` user. */
export function daemonAccount(host: MailHost, chasquidDir: string): Promise<DaemonAccount> {
  return host.once(`daemon-account:${chasquidDir}`, async () => {
    const state = await daemonState(host, chasquidDir);
    const user = state.processes[0]?.user ?? 'chasquid';
    const group = await host.verbs.call('group-of', [user]);
    return { user, group: group.code === 0 ? group.stdout.toString('utf8').trim() : user };
  });
}

/** Whether `account` may read a file (or search a directory) with this stat. */
export function canRead(stat: RemoteStat, account: DaemonAccount): boolean {
  const bits = stat.type === 'directory' ? 0o5 : 0o4;
  if (stat.owner === account.user) return (stat.mode & (bits << 6)) === bits << 6;
  if (stat.group === account.group) return (stat.mode & (bits << 3)) === bits << 3;
  return (stat.mode & bits) === bits;
}

/**
 * Fixes `file` (and its directory) so that the daemon can read it. Returns what was changed, for the audit.
 * `known` spares the round trips when the caller has just seen both (a write returns them).
 */
export async function ensureDaemonCanRead(
  host: MailHost,
  file: string,
  account: DaemonAccount,
  known?: { file: RemoteStat; directory: RemoteStat }
): Promise<string[]> {
  const fixed: string[] = [];
  for (const [target, seen] of [
    [path.posix.dirname(file), known?.directory],
    [file, known?.file],
  ] as const) {
    const stat = seen ?? (await host.files.stat(target));
    if (stat === undefined || canRead(stat, account)) continue;
    // Group read (and search) added, write for others taken away: mailops-host accepts only modes from its set.
    const mode = stat.type === 'directory' ? (stat.mode & 0o005 ? 0o755 : 0o750) : stat.mode & 0o004 ? 0o644 : 0o640;
    await host.files.setOwnership(target, { group: account.group, mode });
    fixed.push(`${target}: group ${account.group}, mode ${mode.toString(8).padStart(4, '0')}`);
  }
  return fixed;
}
