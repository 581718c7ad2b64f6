// Files on the mail host: read, stat, list, and change — through mailops-host's verbs (deploy/mailops-host), which
// also refuse every path, mode, owner and content outside what mailops manages.
//
// Every change is compare-and-swap. It names the content it was computed from — what this lock holding last read
// of the file (or "absent") — and the host refuses it with a conflict if the file changed since, so no update can be
// lost even if a lock was. Several files that must change together (a certificate and its key; a DKIM key and its
// selector) change in one `apply`: all bases are compared before any file changes, the new contents are staged and
// checked, and a journal on the host makes the switch complete even after a crash in the middle.
//
// An atomic write never leaves a mix of old and new content, even if the connection drops halfway:
//   1. the content goes to a temporary file in the same directory (so the final rename stays on one file system);
//   2. its size and SHA-256 are compared with what we sent — a truncated upload is thrown away;
//   3. it takes the owner, group and mode of the file it replaces (or the ones asked for, for a new file);
//   4. the previous content is copied to CHASQUID_DIR/.mailops-backup/ (the newest 10 per file, mode 0700);
//   5. the temporary file is fsynced, renamed over the target, and the directory fsynced.
// When the connection drops after the upload was sent, we call that upload off and ask the host what the files hold
// now. From the host's answer on, the upload has either been applied or never will be (one still on its way, on a
// slow host, is refused), so the answer is the truth: the change happened (reported done) or did not (sent again),
// never half, and never landing late behind our back.

import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { conflictError, failedError } from '../errors.ts';
import { RemoteCommandError, type ExecResult } from './transport.ts';
import { conflictStatus, lockLostError, noLeaseStatus, notFound, type HostVerbs } from './verbs.ts';

/** Backups kept per file; older ones are removed after each write (mailops-host's apply verb). */
export const backupsKept = 10;

export interface RemoteStat {
  uid: number;
  gid: number;
  /** Permission bits, e.g. 0o640. */
  mode: number;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  owner: string;
  group: string;
}

/** One line of `stat -c '%u %g %a %F %s %U %G'` (the file type may hold spaces: "regular empty file"). */
function parseStat(line: string): RemoteStat {
  const [uid, gid, mode, ...rest] = line.split(' ');
  const group = rest.pop() ?? '';
  const owner = rest.pop() ?? '';
  const size = Number(rest.pop());
  const kind = rest.join(' ');
  const type = kind === 'directory' ? 'directory' : kind === 'symbolic link' ? 'symlink' : kind.includes('regular') ? 'file' : 'other';
  return { uid: Number(uid), gid: Number(gid), mode: parseInt(mode ?? '0', 8), type, size, owner, group };
}

export interface WriteOptions {
  /** Owner (`root` or `root:<group>`) for a file that does not exist yet; an existing file keeps its own. */
  createOwner?: string;
  /** Mode for a file that does not exist yet (0600, 0640 or 0644; default 0644); an existing file keeps its own. */
  createMode?: number;
}

/** One file change of an all-or-nothing `apply`. */
export type FileChange =
  | { kind: 'write'; file: string; content: string | Buffer; options?: WriteOptions }
  | { kind: 'remove'; file: string }
  | { kind: 'directory'; directory: string; mode: number; owner?: string };

/** A name for one upload of an `apply`, so that it can be called off when its answer is lost. */
const newRequest = () => randomBytes(16).toString('hex');

/** "absent" or the SHA-256 of a file's content: what a change says it was based on. */
const absent = 'absent';
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function checkAbsolute(file: string): void {
  if (!path.posix.isAbsolute(file) || file.split('/').includes('..')) {
    throw new Error(`Refusing a remote path that is not absolute and normalised: ${JSON.stringify(file)}`);
  }
}

export class RemoteFiles {
  readonly #verbs: HostVerbs;

  constructor(verbs: HostVerbs) {
    this.#verbs = verbs;
  }

  /** The file's content, or undefined when it does not exist. Inside the host lock, it is the base of the next change. */
  async read(file: string): Promise<Buffer | undefined> {
    checkAbsolute(file);
    const result = await this.#verbs.call('read', [file]);
    if (result.code === notFound) {
      this.#verbs.session?.bases.set(file, absent);
      return undefined;
    }
    if (result.code !== 0) throw new RemoteCommandError(`Reading ${file}`, result);
    this.#verbs.session?.bases.set(file, sha256(result.stdout));
    return result.stdout;
  }

  async stat(file: string): Promise<RemoteStat | undefined> {
    checkAbsolute(file);
    const result = await this.#verbs.call('stat', [file]);
    if (result.code === notFound) return undefined;
    if (result.code !== 0) throw new RemoteCommandError(`Inspecting ${file}`, result);
    return parseStat(result.stdout.toString('utf8').trim());
  }

  /** Entries of a directory (name and type), sorted by name; undefined when the directory does not exist. */
  async list(directory: string): Promise<Array<{ name: string; type: 'file' | 'directory' | 'symlink' | 'other' }> | undefined> {
    checkAbsolute(directory);
    const result = await this.#verbs.call('list', [directory]);
    if (result.code === notFound) return undefined;
    if (result.code !== 0) throw new RemoteCommandError(`Listing ${directory}`, result);
    return result.stdout
      .toString('utf8')
      .split('\0')
      .filter((entry) => entry !== '')
      .map((entry) => {
        const [kind, ...name] = entry.split('\t');
        const type = kind === 'd' ? 'directory' : kind === 'f' ? 'file' : kind === 'l' ? 'symlink' : 'other';
        return { name: name.join('\t'), type } as const;
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** What each file holds now, as a base: its SHA-256, "absent", or "other" (not a regular file). */
  async hashes(files: readonly string[]): Promise<string[]> {
    files.forEach(checkAbsolute);
    const result = await this.#verbs.callOk('hash', files);
    return result.stdout.toString('utf8').trim().split('\n');
  }

  /** Creates one directory (its parent must exist) with this mode and owner; does nothing when it exists. */
  async makeDirectory(directory: string, options: { mode: number; owner?: string }): Promise<void> {
    await this.apply([{ kind: 'directory', directory, ...options }]);
  }

  /** Gives a file or directory chasquid's group (`:group`) and/or a mode from mailops-host's set. */
  async setOwnership(file: string, options: { group?: string; mode: number }): Promise<void> {
    checkAbsolute(file);
    const result = await this.#verbs.call('ownership', [
      file,
      options.group === undefined ? '' : `:${options.group}`,
      options.mode.toString(8),
    ]);
    if (result.code === noLeaseStatus) throw lockLostError(result);
    if (result.code !== 0) throw new RemoteCommandError(`Setting the owner and mode of ${file}`, result);
    this.#counted();
  }

  /**
   * Replaces (or creates) a file atomically; see the top of this file for the guarantees. Returns what the file and
   * its directory look like afterwards.
   */
  async writeAtomic(
    file: string,
    content: string | Buffer,
    options: WriteOptions = {}
  ): Promise<{ file: RemoteStat; directory: RemoteStat }> {
    const stats = await this.apply([{ kind: 'write', file, content, options }]);
    const written = stats.get(file);
    if (written === undefined) throw new Error(`mailops-host apply returned no stat for ${file}`);
    return written;
  }

  /** Removes a file, keeping a backup of it; false when there was nothing to remove. */
  async remove(file: string): Promise<boolean> {
    const [current] = await this.#basesOf([file]);
    if (current === absent) return false;
    await this.apply([{ kind: 'remove', file }]);
    return true;
  }

  /**
   * Changes several files as one step: all or nothing, each compared with the content it is based on. Returns the
   * stat of each written file and its directory.
   */
  async apply(changes: readonly FileChange[]): Promise<Map<string, { file: RemoteStat; directory: RemoteStat }>> {
    const touched = changes.flatMap((change) => (change.kind === 'directory' ? [] : [change.file]));
    touched.forEach(checkAbsolute);
    changes.forEach((change) => {
      if (change.kind === 'directory') checkAbsolute(change.directory);
    });
    const bases = await this.#basesOf(touched);
    const words: string[] = [];
    const uploads: Buffer[] = [];
    const expected = new Map<string, string>();
    changes.forEach((change) => {
      if (change.kind === 'directory') {
        words.push('d', change.directory, change.mode.toString(8), change.owner ?? '');
        return;
      }
      const base = bases[touched.indexOf(change.file)] ?? absent;
      if (change.kind === 'remove') {
        words.push('r', change.file, base);
        expected.set(change.file, absent);
        return;
      }
      const data = typeof change.content === 'string' ? Buffer.from(change.content, 'utf8') : change.content;
      const sha = sha256(data);
      words.push(
        'w',
        change.file,
        String(data.length),
        sha,
        base,
        change.options?.createOwner ?? '',
        (change.options?.createMode ?? 0o644).toString(8)
      );
      uploads.push(data);
      expected.set(change.file, sha);
    });
    if (this.#verbs.session?.lost) throw lockLostError();

    const written = changes.flatMap((change) => (change.kind === 'write' ? [change.file] : []));
    const send = (request: string) =>
      this.#verbs.call('apply', ['--request', request, ...words], { stdin: Buffer.concat(uploads), timeoutMs: 120_000 });
    let request = newRequest();
    let result = await send(request);
    let conflicted = result.code === conflictStatus;
    // The connection dropped before the answer: call the upload off and look (see the top of this file).
    for (let round = 1; result.code === null && touched.length > 0; round += 1) {
      const now = await this.#callOff(request, touched);
      if (touched.every((file, index) => now[index] === expected.get(file))) result = await this.#statsAfter(written);
      else if (!touched.every((file, index) => now[index] === bases[index])) conflicted = true;
      else if (round < 3) result = await send((request = newRequest()));
      if (conflicted || round >= 3) break;
    }
    if (conflicted || result.code === conflictStatus) {
      touched.forEach((file) => this.#verbs.session?.bases.delete(file));
      throw conflictError(
        'host-conflict',
        `${touched.join(', ')} changed on the mail host after mailops read ${touched.length === 1 ? 'it' : 'them'}; nothing of this change was applied.`,
        { hint: 'Someone or something else edits these files; run the command again (mailops reads them anew).', cause: result.stderr }
      );
    }
    if (result.code === null) {
      throw failedError(
        'host-connection-lost',
        `The connection to the mail host dropped while changing ${touched.join(', ') || 'directories'}, each time mailops tried.`,
        {
          hint: `${touched.length > 0 ? 'Nothing of this change was applied. ' : ''}Check the connection to the mail host and run the command again.`,
        }
      );
    }
    if (result.code === noLeaseStatus) throw lockLostError(result);
    if (result.code !== 0) throw new RemoteCommandError(`Changing ${touched.join(', ') || 'directories'}`, result);
    for (const [file, sha] of expected) this.#verbs.session?.bases.set(file, sha);
    this.#counted();
    const lines = result.stdout
      .toString('utf8')
      .trim()
      .split('\n')
      .filter((line) => line !== '');
    const stats = new Map<string, { file: RemoteStat; directory: RemoteStat }>();
    written.forEach((file, index) => {
      const [fileLine = '', directoryLine = ''] = lines.slice(index * 2, index * 2 + 2);
      stats.set(file, { file: parseStat(fileLine), directory: parseStat(directoryLine) });
    });
    return stats;
  }

  /** The bases of the next change of these files: as last read in this lock holding, else as they are now. */
  async #basesOf(files: readonly string[]): Promise<string[]> {
    const known = this.#verbs.session?.bases;
    const unknown = files.filter((file) => known?.get(file) === undefined);
    const fetched = unknown.length === 0 ? [] : await this.hashes(unknown);
    return files.map((file) => known?.get(file) ?? fetched[unknown.indexOf(file)] ?? absent);
  }

  /**
   * Calls off the apply named `request`, whose answer was lost, and returns what the files hold now: final for that
   * apply, which has run by now or never will. Asked again (it is harmless) if this answer is lost too.
   */
  async #callOff(request: string, files: readonly string[]): Promise<string[]> {
    for (let attempt = 1; ; attempt += 1) {
      const result = await this.#verbs.call('hash', ['--call-off', request, ...files]);
      if (result.code === 0) return result.stdout.toString('utf8').trim().split('\n');
      if (result.code !== null || attempt >= 3) {
        throw new RemoteCommandError(
          `Finding out whether the change of ${files.join(', ')} was applied, after the connection dropped,`,
          result,
          'Whether it was applied is not known: look at the file on the mail host, or run the command again (mailops reads it anew).'
        );
      }
    }
  }

  /** The stat lines `apply` would have printed, for a change found applied after the connection dropped. */
  async #statsAfter(files: readonly string[]): Promise<ExecResult> {
    const lines: string[] = [];
    for (const file of files) {
      for (const target of [file, path.posix.dirname(file)]) {
        const result = await this.#verbs.call('stat', [target]);
        lines.push(result.stdout.toString('utf8').trim());
      }
    }
    return { code: 0, signal: undefined, stdout: Buffer.from(`${lines.join('\n')}\n`), stderr: '' };
  }

  #counted(): void {
    const session = this.#verbs.session;
    if (session !== undefined) session.changes += 1;
  }
}
