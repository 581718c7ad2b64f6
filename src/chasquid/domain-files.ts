// Reading and writing the per-domain files (users, aliases) the way chasquid's daemon needs them.
//
// A domain directory that does not exist yet is created like its siblings: owner and group of `domains/`, mode 0755.
// chasquid only learns about a new domain when it starts, so the caller restarts it after the first file lands there.
// New files get the daemon's group and mode 0640; existing files keep their owner, group and mode (the atomic write
// copies them) unless the daemon could not read them, which ensureDaemonCanRead repairs.

import type { MailHost } from '../host/mail-host.ts';
import { AliasesFile, type AliasRules } from './aliases-file.ts';
import { parseChasquidConf } from './config-file.ts';
import { daemonAccount, ensureDaemonCanRead } from './daemon-access.ts';
import { danglingTargets, describeDangling, type DanglingTarget, type DomainState } from './local-addresses.ts';
import { ChasquidPaths } from './paths.ts';
import { readUsersFile, type UsersFile } from './users-file.ts';

export interface LoadedDomain {
  domain: string;
  usersFile: string;
  aliasesFile: string;
  users: UsersFile;
  aliases: AliasesFile;
}

export class DomainFiles {
  readonly #host: MailHost;
  readonly paths: ChasquidPaths;

  constructor(host: MailHost, chasquidDir: string) {
    this.#host = host;
    this.paths = new ChasquidPaths(chasquidDir);
  }

  /** Creates domains/<domain>/ when missing; true when it had to (chasquid must then be restarted). */
  async ensureDomainDirectory(domain: string): Promise<boolean> {
    const directory = this.paths.domainDir(domain);
    if ((await this.#host.files.stat(directory))?.type === 'directory') return false;
    let parent = await this.#host.files.stat(this.paths.domainsDir);
    if (parent === undefined) {
      await this.#host.files.makeDirectory(this.paths.domainsDir, { mode: 0o755 });
      parent = await this.#host.files.stat(this.paths.domainsDir);
    }
    await this.#host.files.makeDirectory(directory, { mode: 0o755, ...(parent ? { owner: `${parent.owner}:${parent.group}` } : {}) });
    return true;
  }

  /** Writes a domain file atomically with a backup, then makes sure the daemon can read it. */
  async write(file: string, content: string | Buffer): Promise<string[]> {
    const [account, owner] = await Promise.all([daemonAccount(this.#host, this.paths.root), this.#domainsOwner()]);
    const written = await this.#host.files.writeAtomic(file, content, {
      createOwner: `${owner}:${account.group}`,
      createMode: 0o640,
    });
    return ensureDaemonCanRead(this.#host, file, account, written);
  }

  /** The owner of domains/, which new files take (looked up once per connection). */
  #domainsOwner(): Promise<string> {
    return this.#host.once(
      `domains-owner:${this.paths.root}`,
      async () => (await this.#host.files.stat(this.paths.domainsDir))?.owner ?? 'root'
    );
  }

  read(file: string): Promise<Buffer | undefined> {
    return this.#host.files.read(file);
  }

  /** chasquid.conf's drop characters and suffix separators, which decide how aliases match. */
  async aliasRules(): Promise<AliasRules> {
    const conf = parseChasquidConf((await this.read(this.paths.configFile))?.toString('utf8') ?? '');
    return { dropCharacters: conf.dropCharacters, suffixSeparators: conf.suffixSeparators };
  }

  /** The domains that have a directory on the host (chasquid serves them). */
  async localDomains(): Promise<string[]> {
    return ((await this.#host.files.list(this.paths.domainsDir)) ?? [])
      .filter((entry) => entry.type === 'directory')
      .map((entry) => entry.name);
  }

  /** A domain's senders and aliases, parsed (missing files are empty). */
  async load(domain: string, rules: AliasRules): Promise<LoadedDomain> {
    const usersFile = this.paths.usersFile(domain);
    const aliasesFile = this.paths.aliasesFile(domain);
    const [users, aliases] = await Promise.all([this.read(usersFile), this.read(aliasesFile)]);
    return {
      domain,
      usersFile,
      aliasesFile,
      users: readUsersFile(users, usersFile),
      aliases: AliasesFile.parse(aliases?.toString('utf8'), domain, rules),
    };
  }

  /** Every served domain's senders and aliases, for reference checks; `override` replaces a domain's loaded state. */
  async states(rules: AliasRules, override?: LoadedDomain): Promise<DomainState[]> {
    const domains = await this.localDomains();
    if (override !== undefined && !domains.includes(override.domain)) domains.push(override.domain);
    const loaded = await Promise.all(domains.map((domain) => (override?.domain === domain ? override : this.load(domain, rules))));
    return loaded.map(stateOf);
  }

  /**
   * Applies `change` (which edits `loaded` and says whether it found something to change) and returns the alias
   * targets, anywhere on the host, that it leaves with no sender or alias to take their mail.
   */
  async strandedBy(
    rules: AliasRules,
    loaded: LoadedDomain,
    change: () => boolean
  ): Promise<{ changed: boolean; stranded: DanglingTarget[] }> {
    const others = (await this.states(rules, loaded)).filter((state) => state.domain !== loaded.domain);
    const before = new Set(danglingTargets([...others, stateOf(loaded)], rules).map(describeDangling));
    const changed = change();
    const stranded = danglingTargets([...others, stateOf(loaded)], rules).filter((entry) => !before.has(describeDangling(entry)));
    return { changed, stranded };
  }
}

function stateOf(loaded: LoadedDomain): DomainState {
  return { domain: loaded.domain, senders: new Set(loaded.users.keys()), aliases: loaded.aliases.entries() };
}
