// CHASQUID_DIR kept in git, as the seed setup does: every change mailops makes becomes a commit that names the
// operation and the actor.
//
// Only when CHASQUID_DIR is the top of its own work tree: under etckeeper (/etc as one repository) the operator's
// tool commits, and we must not commit half of someone else's index. Changes found uncommitted before ours are
// committed first, as they are, with a message that says so, so that our commit holds only our change. Our backup
// directory is kept out of the repository through .git/info/exclude (local, not a tracked file). Commits run the
// repository's own hooks; if one refuses, the change stays applied and the failure is reported, not hidden.

import type { MailHost } from '../host/mail-host.ts';

const backupPattern = '/.mailops-backup/';

export class ConfigRepository {
  readonly #host: MailHost;
  readonly #dir: string;

  constructor(host: MailHost, dir: string) {
    this.#host = host;
    this.#dir = dir;
  }

  /** Whether CHASQUID_DIR is the top of a git work tree (and git is installed); checked once per connection. */
  isRepository(): Promise<boolean> {
    return this.#host.connection.once(`git-repository:${this.#dir}`, async () => {
      const result = await this.#host.verbs.call('git', ['toplevel']);
      if (result.code !== 0 || result.stdout.toString('utf8').trim() !== this.#dir) return false;
      await this.#host.verbs.callOk('git', ['exclude', backupPattern]);
      return true;
    });
  }

  /** Commits whatever is uncommitted (the operator's edits), so that it is not mixed into our commit. */
  async commitPending(message: string): Promise<boolean> {
    const status = await this.#host.verbs.callOk('git', ['status']);
    if (status.stdout.toString('utf8').trim() === '') return false;
    await this.#host.verbs.callOk('git', ['add-all']);
    await this.#host.verbs.callOk('git', ['commit', message]);
    return true;
  }

  /** Commits exactly these files (added, changed or removed). Nothing to commit is not an error. */
  async commit(files: readonly string[], message: string): Promise<boolean> {
    if (files.length === 0) return false;
    await this.#host.verbs.callOk('git', ['add', ...files]);
    const staged = await this.#host.verbs.call('git', ['staged-empty']);
    if (staged.code === 0) return false;
    await this.#host.verbs.callOk('git', ['commit', message]);
    return true;
  }
}
