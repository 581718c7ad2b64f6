// CHASQUID_DIR kept in git, as the seed setup does: every change mailops makes becomes a commit that names the
// operation and the actor.
//
// Only when CHASQUID_DIR is the top of its own work tree: under etckeeper (/etc as one repository) the operator's
// tool commits, and we must not commit half of someone else's index. Changes found uncommitted before ours are
// committed first, as they are, with a message that says so, so that our commit holds only our change. Our backup
// directory is kept out of the repository through .git/info/exclude (local, not a tracked file). Commits run the
// repository's own hooks; if one refuses, the change stays applied and the failure is reported, not hidden.

import { RemoteCommandError } from '../host/connection.ts';
import type { MailHost } from '../host/mail-host.ts';

/** The shell's status for a program it cannot find: git is not installed. */
const gitMissing = 127;

export class ConfigRepository {
  readonly #host: MailHost;
  readonly #dir: string;

  constructor(host: MailHost, dir: string) {
    this.#host = host;
    this.#dir = dir;
  }

  /**
   * Whether CHASQUID_DIR is the top of a git work tree (and git is installed); checked once per connection. A call
   * that fails (a dropped connection, a repository git cannot read) is an error, not "no repository": read as the
   * latter, the change would silently go uncommitted. mailops-host keeps the backups out of history itself.
   */
  isRepository(): Promise<boolean> {
    return this.#host.connection.once(`git-repository:${this.#dir}`, async () => {
      const result = await this.#host.verbs.call('git', ['toplevel']);
      if (result.code === gitMissing) return false;
      if (result.code !== 0) throw new RemoteCommandError('git (finding whether CHASQUID_DIR is kept in git)', result);
      return result.stdout.toString('utf8').trim() === this.#dir;
    });
  }

  /** Commits whatever is uncommitted (the operator's edits), so that it is not mixed into our commit. */
  async commitPending(message: string): Promise<boolean> {
    const result = await this.#host.verbs.callOk('git', ['commit-pending', message]);
    return result.stdout.toString('utf8').trim() === 'committed';
  }

  /** Commits exactly these files (added, changed or removed). Nothing to commit is not an error. */
  async commit(files: readonly string[], message: string): Promise<boolean> {
    if (files.length === 0) return false;
    const result = await this.#host.verbs.callOk('git', ['commit-files', message, ...files]);
    return result.stdout.toString('utf8').trim() === 'committed';
  }
}
