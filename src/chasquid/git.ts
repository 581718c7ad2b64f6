// CHASQUID_DIR kept in git, as the seed setup does: every change mailops makes becomes a commit that names the
// operation and the actor.
//
// Only when CHASQUID_DIR is the top of its own work tree: under etckeeper (/etc as one repository) the operator's
// tool commits, and we must not commit half of someone else's index. Changes found uncommitted before ours are
// committed first, as they are, with a message that says so, so that our commit holds only our change.
// mailops-host keeps our own directories, private keys and users files (password hashes) out of the repository
// through .git/info/exclude (local, not a tracked file), and runs git with no hooks: nothing in .git can make a commit
// run a program as root.

import type { MailHost } from '../host/mail-host.ts';
import { RemoteCommandError } from '../host/transport.ts';

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
   * Whether CHASQUID_DIR is the top of a git work tree of its own; checked once per connection. A repository that
   * git cannot read (or one mailops-host refuses) is an error, never "not a repository": its changes would go
   * uncommitted without anyone knowing.
   */
  isRepository(): Promise<boolean> {
    return this.#host.once(`git-repository:${this.#dir}`, async () => {
      const result = await this.#host.verbs.call('git', ['toplevel']);
      const answer = result.stdout.toString('utf8').trim();
      if (result.code === 0 && answer === 'none') return false;
      if (result.code === gitMissing) return false;
      if (result.code !== 0) {
        throw new RemoteCommandError(
          'git in CHASQUID_DIR',
          result,
          `${this.#dir}/.git exists but cannot be used; fix it (or remove it if CHASQUID_DIR should not be kept in git), then try again.`
        );
      }
      return answer === this.#dir;
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
