// The group chasquid runs as: files only the daemon must read (TLS and DKIM private keys) are made root-owned,
// group-readable by it (mode 0640) — never world-readable, and readable after chasquid drops privileges.
//
// Taken from the running daemon's user; when chasquid is not running, from the `chasquid` user Debian's package makes;
// failing both, root (the key is then readable by root only, and chasquid running as root can still read it).

import type { MailHost } from '../host/mail-host.ts';
import { daemonState } from './daemon.ts';

export function daemonGroup(host: MailHost, chasquidDir: string): Promise<string> {
  return host.connection.once(`daemon-group:${chasquidDir}`, async () => {
    const state = await daemonState(host, chasquidDir);
    for (const user of [...state.processes.map((process) => process.user), 'chasquid']) {
      if (!/^[a-z_][a-z0-9_.-]*$/i.test(user)) continue;
      const result = await host.exec(['id', '-gn', '--', user]);
      const group = result.stdout.toString('utf8').trim();
      if (result.code === 0 && group !== '') return group;
    }
    return 'root';
  });
}
