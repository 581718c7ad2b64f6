// Files on the mail host: read, stat, list, create directories, change ownership, remove, and replace a file
// atomically — through mailops-host's verbs (deploy/mailops-host), which also refuse paths outside the directories
// mailops may touch.
//
// An atomic write never leaves a mix of old and new content, even if the connection drops halfway:
//   1. the content goes to a temporary file in the same directory (so the final rename stays on one file system);
//   2. its size and SHA-256 are compared with what we sent — a truncated upload is thrown away;
//   3. it takes the owner, group and mode of the file it replaces (or the ones asked for, for a new file);
//   4. the previous content is copied into the backup directory (timestamped, the newest 10 kept, mode 0700);
//   5. the temporary file is fsynced, renamed over the target, and the directory fsynced so the rename survives a crash.

import { createHash } from 'node:crypto';
import path from 'node:path';
import { RemoteCommandError } from './connection.ts';
import { notFound, type HostVerbs } from './verbs.ts';

/** Backups kept per file; older ones are removed after each write (mailops-host's write verb). */
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

export interface WriteOptions {
  /** Owner (`user` or `user:group`) for a file that does not exist yet; an existing file keeps its own. */
  createOwner?: string;
  /** Mode for a file that does not exist yet (default 0644); an existing file keeps its own. */
  createMode?: number;
  /** Where to keep the previous content: a directory and the file's name relative to it. */
  backup?: { root: string; name: string };
}

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

  /** The file's content, or undefined when it does not exist. */
  async read(file: string): Promise<Buffer | undefined> {
    checkAbsolute(file);
    const result = await this.#verbs.call('read', [file]);
    if (result.code === notFound) return undefined;
    if (result.code !== 0) throw new RemoteCommandError(`Reading ${file}`, result);
    return result.stdout;
  }

  async stat(file: string): Promise<RemoteStat | undefined> {
    checkAbsolute(file);
    const result = await this.#verbs.call('stat', [file]);
    if (result.code === notFound) return undefined;
    if (result.code !== 0) throw new RemoteCommandError(`Inspecting ${file}`, result);
    const [uid, gid, mode, ...rest] = result.stdout.toString('utf8').trim().split(' ');
    const group = rest.pop() ?? '';
    const owner = rest.pop() ?? '';
    const size = Number(rest.pop());
    const kind = rest.join(' ');
    const type = kind === 'directory' ? 'directory' : kind === 'symbolic link' ? 'symlink' : kind.includes('regular') ? 'file' : 'other';
    return { uid: Number(uid), gid: Number(gid), mode: parseInt(mode ?? '0', 8), type, size, owner, group };
  }

  /** Entries of a directory (name and type), sorted by name; undefined when the directory does not exist. */
  async list(directory: string): Promise<Array<{ name: string; type: 'file' | 'directory' | 'symlink' | 'other' }> | undefined> {
    checkAbsolute(directory);
    const result = await this.#verbs.call('list', [directory]);
    if (result.code === notFound) return undefined;
    if (result.code !== 0) throw new RemoteCommandError(`Listing ${directory}`, result);
    return result.stdout.toString('utf8').split('\0').filter((entry) => entry !== '').map((entry) => {
      const [kind, ...name] = entry.split('\t');
      const type = kind === 'd' ? 'directory' : kind === 'f' ? 'file' : kind === 'l' ? 'symlink' : 'other';
      return { name: name.join('\t'), type } as const;
    }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Creates one directory (its parent must exist) with this mode and owner; does nothing when it exists. */
  async makeDirectory(directory: string, options: { mode: number; owner?: string }): Promise<void> {
    checkAbsolute(directory);
    const result = await this.#verbs.call('mkdir', [directory, options.mode.toString(8), options.owner ?? '']);
    if (result.code !== 0) throw new RemoteCommandError(`Creating ${directory}`, result);
  }

  /** Changes owner (`user`, `user:group` or `:group`) and/or mode (octal or symbolic, e.g. `g+r`). */
  async setOwnership(file: string, options: { owner?: string; mode?: string }): Promise<void> {
    checkAbsolute(file);
    const result = await this.#verbs.call('ownership', [file, options.owner ?? '', options.mode ?? '']);
    if (result.code !== 0) throw new RemoteCommandError(`Setting the owner and mode of ${file}`, result);
  }

  /** Replaces (or creates) a file atomically; see the top of this file for the guarantees. */
  async writeAtomic(file: string, content: string | Buffer, options: WriteOptions = {}): Promise<void> {
    checkAbsolute(file);
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const sha = createHash('sha256').update(data).digest('hex');
    const args = [file, String(data.length), sha, options.createOwner ?? '', (options.createMode ?? 0o644).toString(8),
      options.backup?.root ?? '', options.backup?.name ?? ''];
    const result = await this.#verbs.call('write', args, { stdin: data });
    if (result.code !== 0) throw new RemoteCommandError(`Writing ${file}`, result);
  }

  /** Removes a file, keeping a backup of it; false when there was nothing to remove. */
  async remove(file: string, options: { backup?: { root: string; name: string } } = {}): Promise<boolean> {
    checkAbsolute(file);
    const result = await this.#verbs.call('remove', [file, options.backup?.root ?? '', options.backup?.name ?? '']);
    if (result.code === notFound) return false;
    if (result.code !== 0) throw new RemoteCommandError(`Removing ${file}`, result);
    return true;
  }
}
