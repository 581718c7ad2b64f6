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

const excludeScript = `set -eu
file=$(git -C "$1" -c safe.directory="$1" rev-parse --git-path info/exclude)
case "$file" in /*) ;; *) file="$1/$file" ;; esac
mkdir -p -- "$(dirname -- "$file")"
grep -qxF -- "$2" "$file" 2>/dev/null || printf '%s\\n' "$2" >> "$file"`;

export class ConfigRepository {
  readonly #host: MailHost;
  readonly #dir: string;

  constructor(host: MailHost, dir: string) {
    this.#host = host;
    this.#dir = dir;
  }

  #git(...args: string[]): string[] {
    return ['git', '-C', this.#dir, '-c', `safe.directory=${this.#dir}`, '-c', 'user.name=mailops', '-c', 'user.email=mailops@localhost', ...args];
  }

  /** Whether CHASQUID_DIR is the top of a git work tree (and git is installed); checked once per connection. */
  isRepository(): Promise<boolean> {
    return this.#host.connection.once(`git-repository:${this.#dir}`, async () => {
      const result = await this.#host.exec(this.#git('rev-parse', '--show-toplevel'));
      if (result.code !== 0 || result.stdout.toString('utf8').trim() !== this.#dir) return false;
      await this.#host.execOk(['sh', '-c', excludeScript, 'mailops-git-exclude', this.#dir, backupPattern]);
      return true;
    });
  }

  /** Commits whatever is uncommitted (the operator's edits), so that it is not mixed into our commit. */
  async commitPending(message: string): Promise<boolean> {
    const status = await this.#host.execOk(this.#git('status', '--porcelain'));
    if (status.stdout.toString('utf8').trim() === '') return false;
    await this.#host.execOk(this.#git('add', '-A', '--', '.'));
    await this.#host.execOk(this.#git('commit', '-q', '-m', message));
    return true;
  }

  /** Commits exactly these files (added, changed or removed). Nothing to commit is not an error. */
  async commit(files: readonly string[], message: string): Promise<boolean> {
    if (files.length === 0) return false;
    await this.#host.execOk(this.#git('add', '-A', '--', ...files));
    const staged = await this.#host.exec(this.#git('diff', '--cached', '--quiet'));
    if (staged.code === 0) return false;
    await this.#host.execOk(this.#git('commit', '-q', '-m', message));
    return true;
  }
}
