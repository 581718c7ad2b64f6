// An attacker who holds only the restricted SSH key that deploy/host-setup.sh installs: every way we know to turn that
// key into more than "what mailops does" (issue: least privilege that holds), tried against a real lab host through
// the forced command, on both chasquid builds. Each attempt must be refused (exit 64; 46 when it lacks the lock),
// leave CHASQUID_DIR and the system's own files (/etc/shadow, sudoers, mailops-host's settings, cron) exactly as they
// were, and never create the marker file that a hook, a filter or a pipe alias would touch if it ran.
//
// Things an attacker cannot do with the key alone (a symbolic link in a directory, a hook in .git, chasquid.conf
// edited) are planted here by root, as another local user, an earlier mailops-host version (which let the key write
// .git/ as root) or chasquid's own user could have left them; the helper must then refuse to go through them.
// A few of the same attempts are made as root too (shell mode): the README promises that the rules hold there as well.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { mailHostFromConfig, type MailHost } from '../../src/host/mail-host.ts';
import type { ExecResult } from '../../src/host/transport.ts';
import { noLeaseStatus, refusedStatus } from '../../src/host/verbs.ts';
import { createLogger, Redactor } from '../../src/log.ts';
import { deliver } from '../smtp.ts';
import { elapse, happensWithin, waitFor, withDeadline } from '../wait.ts';
import { repoRoot, sshConnection, startLab, type Lab } from './lab.ts';
import { treeFingerprint } from './tree.ts';

const logger = createLogger({ level: 'silent', redactor: new Redactor() });
const setupScript = path.join(repoRoot, 'deploy/host-setup.sh');
const encode = (word: string) => Buffer.from(word, 'utf8').toString('base64');
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const mebibyte = 1024 * 1024;

// Each test makes dozens of calls through SSH and sudo, on machines that also run other labs.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

function digest(file: string): string {
  try {
    const stat = lstatSync(file);
    if (stat.isSymbolicLink()) return `link ${stat.uid} ${stat.mode.toString(8)}`;
    if (stat.isDirectory()) return `dir ${stat.uid}:${stat.gid} ${stat.mode.toString(8)}`;
    return `${stat.uid}:${stat.gid} ${stat.mode.toString(8)} ${sha256(readFileSync(file))}`;
  } catch {
    return 'absent';
  }
}

/** Names, owners, modes (and, with `content`, checksums) of a directory's entries. */
function listing(dir: string, content: boolean): string[] {
  if (!existsSync(dir)) return [`${dir} absent`];
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const file = path.join(dir, name);
      if (content) return `${file} ${digest(file)}`;
      const stat = lstatSync(file);
      return `${file} ${stat.uid}:${stat.gid} ${stat.mode.toString(8)}`;
    });
}

/** An aliases file with one harmless alias and `extra` lines. */
const aliasesWith = (...extra: string[]) => `postmaster: root@example.test\n${extra.join('\n')}\n`;

const privateKeyPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe.each(['1.11', '1.15'] as const)('an attacker holding the restricted key, chasquid %s', (build) => {
  let lab: Lab;
  const user = `mailops-a${randomBytes(3).toString('hex')}`;
  const marker = `/tmp/mailops-attack-marker-${randomBytes(6).toString('hex')}`;
  const touchMarker = `#!/bin/sh\ntouch ${marker}\n`;
  let dir: string;
  let dataDir: string;
  let outside: string;
  let prefix: string;
  let domainDir: string;
  let attacker: MailHost;
  let root: MailHost;
  const hosts: MailHost[] = [];

  const newHost = (restricted: boolean) => {
    const host = mailHostFromConfig(
      parseConfig({ ...lab.env, ...(restricted ? { MAIL_HOST: `ssh://${user}@127.0.0.1:${lab.ports.ssh}` } : {}) }),
      logger
    );
    hosts.push(host);
    return host;
  };

  const hostSetup = (args: string[]) => spawnSync('sh', [setupScript, ...args], { encoding: 'utf8' });

  // Other test files make and remove their own mailops-* accounts, sudo rules and settings meanwhile: those are not ours.
  const othersOnly = (entry: string) => !/mailops-[a-z]/.test(entry) || entry.includes(user) || entry.includes(user.replaceAll('-', '_'));
  const accounts = (file: string) => sha256(readFileSync(file, 'utf8').split('\n').filter(othersOnly).join('\n'));

  /**
   * Everything an attack might change: CHASQUID_DIR (but the lease and the journal's scratch file), the accounts and
   * sudo rules, mailops-host's settings and programs, cron, root's keys, chasquid's data directory, the marker.
   */
  const fingerprint = (): string[] => [
    ...treeFingerprint(dir).filter((entry) => !/^\.mailops-state\/(lease|pending\.tmp) /.test(entry)),
    ...treeFingerprint(outside),
    ...['/etc/shadow', '/etc/passwd', '/etc/group'].map((file) => `${file} ${accounts(file)}`),
    ...['/etc/sudoers', '/etc/crontab', '/etc/hostname'].map((file) => `${file} ${digest(file)}`),
    ...['/etc/sudoers.d', '/etc/mailops-host'].flatMap((where) => listing(where, true).filter(othersOnly)),
    ...['/etc/cron.d', prefix, `/var/lib/${user}/.ssh`, '/root/.ssh'].flatMap((where) => listing(where, true)),
    ...listing(dataDir, false),
    `${dataDir}/mailops-probe ${digest(path.join(dataDir, 'mailops-probe'))}`,
    `marker ${existsSync(marker)}`,
  ];

  const said = (result: ExecResult) => `${result.code} ${result.stderr.trim().split('\n').slice(-1)[0] ?? ''}`;

  /** Runs `attack`, and proves it was refused with `code` and changed nothing. */
  async function refused(what: string, attack: () => Promise<ExecResult>, code: number = refusedStatus): Promise<ExecResult> {
    const before = fingerprint();
    const result = await attack();
    const refusal = code === refusedStatus ? /refused|may only run mailops operations/.test(result.stderr) : true;
    expect({ what, code: result.code, refusal, said: said(result) }).toEqual({ what, code, refusal: true, said: said(result) });
    expect(fingerprint()).toEqual(before);
    expect(existsSync(marker)).toBe(false);
    return result;
  }

  /** The raw call the key can make: 'mailops-v1' and one base64 word per argument, through the forced command. */
  const raw = (words: readonly string[], stdin?: string | Buffer, timeoutMs?: number) =>
    sshConnection(attacker).exec(['mailops-v1', ...words.map(encode)], {
      ...(stdin === undefined ? {} : { stdin }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  const rawVerb = (words: readonly string[], stdin?: string | Buffer, timeoutMs?: number) =>
    raw(['--chasquid-dir', dir, ...words], stdin, timeoutMs);

  /** A lease taken the way the key takes it; released afterwards. */
  async function withLease<T>(work: (token: string) => Promise<T>): Promise<T> {
    const acquired = await rawVerb(['lease', 'acquire', '60', 'attacker']);
    const token = acquired.stdout.toString('utf8').trim();
    expect({ code: acquired.code, token: /^[0-9a-f]{32}$/.test(token) }).toEqual({ code: 0, token: true });
    try {
      return await work(token);
    } finally {
      await rawVerb(['lease', 'release', token]);
    }
  }

  interface Op {
    words: string[];
    data?: Buffer;
  }
  const baseOf = (file: string) => {
    try {
      return sha256(readFileSync(file));
    } catch {
      return 'absent';
    }
  };
  const write = (
    file: string,
    content: string | Buffer,
    options: { owner?: string; mode?: string; size?: string; base?: string } = {}
  ): Op => {
    const data = Buffer.from(content);
    return {
      words: [
        'w',
        file,
        options.size ?? String(data.length),
        sha256(data),
        options.base ?? baseOf(file),
        options.owner ?? '',
        options.mode ?? '644',
      ],
      data,
    };
  };
  const removal = (file: string): Op => ({ words: ['r', file, baseOf(file)] });
  const directory = (target: string, mode = '755', owner = ''): Op => ({ words: ['d', target, mode, owner] });
  const applyWords = (ops: readonly Op[]) => ['apply', ...ops.flatMap((op) => op.words)];
  const applyInput = (ops: readonly Op[]) => Buffer.concat(ops.flatMap((op) => (op.data === undefined ? [] : [op.data])));
  /** `apply` as the key sends it, under a lease the caller holds. */
  const apply = (token: string, ...ops: Op[]) => rawVerb(['--lease', token, ...applyWords(ops)], applyInput(ops), 120_000);
  /** `apply` through mailops's own client (its lock, its encoding) on `host`. */
  const applyAs = (host: MailHost, ...ops: Op[]) =>
    host.lock.run(() => host.verbs.call('apply', applyWords(ops), { stdin: applyInput(ops), timeoutMs: 120_000 }));
  const commitPending = (token: string, message = 'attack') => rawVerb(['--lease', token, 'git', 'commit-pending', message]);
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'safe.directory=*', '-c', 'core.hooksPath=/dev/null', ...args], { encoding: 'utf8' });

  /**
   * Sends a message to `address` after chasquid has had time to load the aliases file, and says whether the marker
   * appeared. These are windows, not waits for a condition: the change was refused, so there is nothing new for
   * chasquid to load and no event to wait for, and chasquid logs no reload. A pipe alias that got through would be
   * loaded within the lab's reload period (1 s) and run within seconds of the delivery.
   */
  async function markerAfterDelivery(address: string): Promise<boolean> {
    await elapse('a reload of the aliases files by chasquid (every second in the lab)', 1500);
    await deliver(lab, 'someone@sender.invalid', address, `attack ${build}`).catch(() => undefined);
    return happensWithin('a pipe alias to touch the marker', () => existsSync(marker), 4000, 200);
  }

  beforeAll(async () => {
    lab = await startLab({ chasquid: build });
    dir = lab.chasquidDir;
    dataDir = path.join(lab.dir, 'var/lib/chasquid');
    domainDir = path.join(dir, 'domains/example.test');
    outside = path.join(lab.dir, 'outside');
    prefix = path.join(lab.dir, 'mailops-host');
    mkdirSync(outside, { mode: 0o755 });
    writeFileSync(path.join(domainDir, 'aliases'), aliasesWith());
    execFileSync('git', ['-C', dir, 'init', '-q']);
    execFileSync('git', ['-C', dir, '-c', 'user.name=seed', '-c', 'user.email=seed@example.test', 'add', '-A']);
    execFileSync('git', ['-C', dir, '-c', 'user.name=seed', '-c', 'user.email=seed@example.test', 'commit', '-qm', 'seed']);
    const setup = hostSetup([
      '--user',
      user,
      '--key-file',
      `${lab.env.SSH_KEY_FILE}.pub`,
      '--chasquid-dir',
      dir,
      '--restart',
      lab.env.CHASQUID_RESTART ?? '',
      '--path',
      `${path.join(lab.dir, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`,
      '--prefix',
      prefix,
    ]);
    expect(setup.status, setup.stderr).toBe(0);
    attacker = newHost(true);
    root = newHost(false);
    expect(await attacker.verbs.mode()).toBe('restricted');
    // mailops's first commit: .git becomes 0700 and keeps secrets out (what every later refusal is compared with).
    await withLease(async (token) => expect((await commitPending(token, 'settle')).code).toBe(0));
  }, 180_000);

  afterEach(() => {
    expect(existsSync(marker)).toBe(false);
  });

  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.close()));
    hostSetup(['--user', user, '--remove']);
    rmSync(marker, { force: true });
    await lab?.stop();
  });

  // --- 1. git runs what the key wrote --------------------------------------------------------------------------

  describe('1. git runs nothing the key wrote', () => {
    const hookNames = [
      'pre-commit',
      'prepare-commit-msg',
      'commit-msg',
      'post-commit',
      'pre-auto-gc',
      'post-index-change',
      'reference-transaction',
      'post-rewrite',
      'fsmonitor-watchman',
      'pre-merge-commit',
      'post-checkout',
      'post-merge',
      'pre-push',
    ];

    it('cannot write a hook, the config, HEAD or info/ of .git, under any hook name', async () => {
      await withLease(async (token) => {
        for (const name of hookNames) {
          await refused(`hooks/${name}`, () => apply(token, write(`${dir}/.git/hooks/${name}`, touchMarker, { mode: '644' })));
        }
        for (const [file, content] of [
          ['config', `[core]\n\tfsmonitor = ${outside}/fsmonitor\n`],
          ['config', `[core]\n\thooksPath = ${outside}/hooks\n`],
          ['config', `[includeIf "gitdir:/"]\n\tpath = ${domainDir}/aliases\n`],
          ['config', `[filter "x"]\n\tclean = touch ${marker}\n`],
          ['HEAD', 'ref: refs/heads/evil\n'],
          ['info/exclude', '*\n'],
          ['info/attributes', '* filter=x\n'],
          ['commondir', outside],
        ] as const) {
          await refused(`.git/${file}`, () => apply(token, write(`${dir}/.git/${file}`, content)));
        }
        await refused('remove .git/config', () => apply(token, removal(`${dir}/.git/config`)));
        await refused('.gitattributes', () => apply(token, write(`${dir}/.gitattributes`, '* filter=x diff=x\n')));
        await refused('domains/<d>/.gitattributes', () => apply(token, write(`${domainDir}/.gitattributes`, '* filter=x\n')));
        await refused('.gitmodules', () => apply(token, write(`${dir}/.gitmodules`, '[submodule "x"]\n\tpath = x\n\turl = /tmp\n')));
        // A commit afterwards runs none of it.
        expect((await commitPending(token)).code).toBe(0);
      });
    });

    it('runs no hook, fsmonitor or hooksPath that an earlier helper let the key plant in .git (commit-pending, commit-files)', async () => {
      const hooks = path.join(dir, '.git/hooks');
      mkdirSync(hooks, { recursive: true });
      mkdirSync(path.join(outside, 'hooks'), { recursive: true });
      for (const name of hookNames) {
        writeFileSync(path.join(hooks, name), touchMarker, { mode: 0o755 });
        writeFileSync(path.join(outside, 'hooks', name), touchMarker, { mode: 0o755 });
      }
      writeFileSync(path.join(outside, 'fsmonitor'), touchMarker, { mode: 0o755 });
      const config = readFileSync(path.join(dir, '.git/config'));
      try {
        for (const [key, value] of [
          ['core.fsmonitor', path.join(outside, 'fsmonitor')],
          ['core.hooksPath', path.join(outside, 'hooks')],
        ] as const) {
          git('config', key, value);
          await withLease(async (token) => {
            expect((await apply(token, write(`${domainDir}/aliases`, aliasesWith(`hook-${key}: root@example.test`)))).code).toBe(0);
            const committed = await rawVerb(['--lease', token, 'git', 'commit-files', `attack ${key}`, `${domainDir}/aliases`]);
            expect({ code: committed.code, out: committed.stdout.toString().trim() }).toEqual({ code: 0, out: 'committed' });
            expect((await apply(token, write(`${domainDir}/aliases`, aliasesWith(`pending-${key}: root@example.test`)))).code).toBe(0);
            expect((await commitPending(token, `pending ${key}`)).stdout.toString().trim()).toBe('committed');
          });
          expect(git('log', '-2', '--format=%s').split('\n').slice(0, 2)).toEqual([`pending ${key}`, `attack ${key}`]);
          expect(existsSync(marker)).toBe(false);
          writeFileSync(path.join(dir, '.git/config'), config);
        }
      } finally {
        writeFileSync(path.join(dir, '.git/config'), config);
        for (const name of hookNames) rmSync(path.join(hooks, name), { force: true });
      }
    });

    it("refuses a .git that is a symbolic link, a gitfile, not root's, or has a config that is not root's — and one made from scratch", async () => {
      const evil = path.join(outside, 'evil-repo');
      execFileSync('git', ['init', '-q', evil]);
      writeFileSync(path.join(evil, '.git/hooks/pre-commit'), touchMarker, { mode: 0o755 });
      execFileSync('git', ['-C', evil, 'config', 'core.fsmonitor', path.join(outside, 'fsmonitor')]);
      writeFileSync(path.join(outside, 'fsmonitor'), touchMarker, { mode: 0o755 });
      const gitDir = path.join(dir, '.git');
      const aside = path.join(lab.dir, 'git-aside');
      const gitVerbs = (token: string) =>
        [['toplevel'], ['commit-pending', 'attack'], ['commit-files', 'attack', `${domainDir}/aliases`]].map(
          (args) => () => rawVerb(['--lease', token, 'git', ...args])
        );
      await withLease(async (token) => {
        renameSync(gitDir, aside);
        try {
          symlinkSync(path.join(evil, '.git'), gitDir);
          for (const call of gitVerbs(token)) await refused('.git a symbolic link', call);
          rmSync(gitDir);
          writeFileSync(gitDir, `gitdir: ${path.join(evil, '.git')}\n`);
          for (const call of gitVerbs(token)) await refused('.git a gitfile', call);
          rmSync(gitDir);
          // No repository: the key cannot make one, and git says so rather than looking further up.
          await refused('mkdir .git', () => apply(token, directory(gitDir, '700', 'root')));
          await refused('mkdir .git/hooks', () => apply(token, directory(`${gitDir}/hooks`, '700', 'root')));
          await refused('write .git/config', () => apply(token, write(`${gitDir}/config`, '[core]\n\tbare = false\n')));
          const toplevel = await rawVerb(['git', 'toplevel']);
          expect({ code: toplevel.code, out: toplevel.stdout.toString().trim() }).toEqual({ code: 0, out: 'none' });
          await refused('commit without .git', () => rawVerb(['--lease', token, 'git', 'commit-pending', 'attack']));
        } finally {
          rmSync(gitDir, { force: true, recursive: false });
          renameSync(aside, gitDir);
        }
        const configMode = statSync(`${gitDir}/config`).mode & 0o7777;
        for (const [what, change, undo] of [
          ['.git owned by chasquid', () => chownSync(gitDir, lab.daemon.uid, lab.daemon.gid), () => chownSync(gitDir, 0, 0)],
          ['.git mode 0777', () => chmodSync(gitDir, 0o777), () => chmodSync(gitDir, 0o700)],
          ['.git mode 0770', () => chmodSync(gitDir, 0o770), () => chmodSync(gitDir, 0o700)],
          [
            '.git/config owned by chasquid',
            () => chownSync(`${gitDir}/config`, lab.daemon.uid, 0),
            () => chownSync(`${gitDir}/config`, 0, 0),
          ],
          ['.git/config mode 0666', () => chmodSync(`${gitDir}/config`, 0o666), () => chmodSync(`${gitDir}/config`, configMode)],
          ['.git/HEAD owned by chasquid', () => chownSync(`${gitDir}/HEAD`, lab.daemon.uid, 0), () => chownSync(`${gitDir}/HEAD`, 0, 0)],
        ] as const) {
          change();
          try {
            for (const call of gitVerbs(token)) await refused(what, call);
          } finally {
            undo();
          }
        }
        const configFile = `${gitDir}/config`;
        const config = readFileSync(configFile);
        rmSync(configFile);
        writeFileSync(path.join(outside, 'config'), config);
        symlinkSync(path.join(outside, 'config'), configFile);
        try {
          for (const call of gitVerbs(token)) await refused('.git/config a symbolic link', call);
        } finally {
          rmSync(configFile);
          writeFileSync(configFile, config, { mode: configMode });
        }
      });
    });

    it('refuses git subcommands and options of its own, and commit-files on paths outside', async () => {
      await withLease(async (token) => {
        for (const args of [
          ['config', 'core.hooksPath', outside],
          ['-c', 'core.hooksPath=/tmp', 'commit-pending', 'x'],
          ['--exec-path=/tmp', 'toplevel'],
          ['--git-dir=/tmp', 'toplevel'],
          ['log'],
          ['show', 'HEAD:certs'],
          ['status'],
          ['add', '-A'],
          ['reset', '--hard'],
          ['checkout', '.'],
          ['gc'],
          ['rev-parse', '--show-toplevel'],
          ['commit', '-m', 'x'],
          ['cat-file', '-p', 'HEAD'],
          ['archive', 'HEAD'],
          ['clone', outside],
        ]) {
          await refused(`git ${args.join(' ')}`, () => rawVerb(['--lease', token, 'git', ...args]));
        }
        for (const file of [
          '--exec=touch /tmp/x',
          '-A',
          '.',
          '*',
          ':(glob)**',
          '/etc/shadow',
          `${dir}/../../../etc/shadow`,
          `${dir}/.git/config`,
          `${dir}/.mailops-state/lease`,
          path.join(outside, 'x'),
          `${dataDir}/queue`,
          `${dataDir}/mailops-probe/x.eml`,
          'domains/example.test/aliases',
        ]) {
          await refused(`commit-files ${file}`, () => rawVerb(['--lease', token, 'git', 'commit-files', 'attack', file]));
        }
      });
    });
  });

  // --- the change list itself ------------------------------------------------------------------------------------

  describe("apply's own list of changes", () => {
    it('takes no extra change smuggled in a base or an owner with a tab or a line break (root moving, making or removing files anywhere)', async () => {
      const victim = path.join(outside, 'victim');
      const cron = path.join(outside, 'cron.d');
      mkdirSync(cron, { recursive: true, mode: 0o755 });
      writeFileSync(victim, `${randomBytes(8).toString('hex')} root-only\n`, { mode: 0o600 });
      const users = `${domainDir}/users`;
      const aliases = `${domainDir}/aliases`;
      const cronLine = `* * * * * root touch ${marker}\n`;
      await withLease(async (token) => {
        // The attacker's own content, in a file it may write (no pipe: an aliases file takes it).
        expect((await apply(token, write(aliases, cronLine))).code).toBe(0);
        const tab = '\t';
        const smuggled: Array<[string, Op]> = [
          // apply keeps its list of changes as lines of tab-separated fields; the journal is made from it.
          [
            'make a directory as root, owned by anyone',
            {
              words: ['w', users, '0', sha256(''), `${baseOf(users)}${tab}${aliases}\nd${tab}${marker}${tab}755${tab}chasquid`, '', '640'],
              data: Buffer.alloc(0),
            },
          ],
          [
            'move a root-only file where the key can read it',
            { words: ['w', users, '0', sha256(''), `${baseOf(users)}${tab}${victim}`, '', '640'], data: Buffer.alloc(0) },
          ],
          [
            'move its own file into a cron directory',
            directory(`${dataDir}/mailops-probe`, '700', `chasquid:chasquid\nw${tab}${cron}/mailops${tab}absent${tab}${aliases}`),
          ],
          ['through a removal', { words: ['r', aliases, `${baseOf(aliases)}\nd${tab}${marker}${tab}755${tab}root`] }],
          [
            'through the owner of the probe directory',
            directory(`${dataDir}/mailops-probe`, '700', `chasquid:chasquid\nd${tab}${marker}${tab}755${tab}root`),
          ],
          ['a line break alone', { words: ['r', aliases, `${baseOf(aliases)}\n`] }],
        ];
        for (const [what, op] of smuggled) {
          await refused(what, () => apply(token, op));
          expect(existsSync(`${cron}/mailops`)).toBe(false);
          expect(existsSync(victim)).toBe(true);
        }
      });
      const read = await rawVerb(['read', users]);
      expect(read.stdout.toString()).not.toContain('root-only');
      rmSync(cron, { recursive: true });
      rmSync(victim);
      writeFileSync(aliases, aliasesWith());
    });
  });

  // --- 2. chasquid.conf decides nothing ------------------------------------------------------------------------

  describe('2. chasquid.conf decides nothing', () => {
    it('cannot write, replace, remove or re-own chasquid.conf or hooks/', async () => {
      await withLease(async (token) => {
        const conf = `${dir}/chasquid.conf`;
        await refused('write chasquid.conf', () => apply(token, write(conf, `${readFileSync(conf, 'utf8')}data_dir: "/etc/cron.d"\n`)));
        await refused('remove chasquid.conf', () => apply(token, removal(conf)));
        await refused('ownership chasquid.conf', () => rawVerb(['--lease', token, 'ownership', conf, ':chasquid', '666']));
        await refused('ownership chasquid.conf 644', () => rawVerb(['--lease', token, 'ownership', conf, '', '644']));
        await refused('a new chasquid.conf.d', () => apply(token, directory(`${dir}/chasquid.conf.d`)));
      });
    });

    it('keeps the data directory from root\'s settings when chasquid.conf names another (data_dir: "/etc/cron.d")', async () => {
      const conf = `${dir}/chasquid.conf`;
      const original = readFileSync(conf);
      writeFileSync(conf, original.toString('utf8').replace(/^data_dir:.*$/m, 'data_dir: "/etc/cron.d"'));
      try {
        await withLease(async (token) => {
          for (const target of ['/etc/cron.d/mailops-probe', '/etc/cron.d/mailops-probe/x.eml']) {
            await refused(`mkdir ${target}`, () => apply(token, directory(target)));
            await refused(`write ${target}`, () => apply(token, write(target, `* * * * * root touch ${marker}\n`)));
          }
          await refused('read /etc/cron.d/mailops-probe/x.eml', () => rawVerb(['read', '/etc/cron.d/mailops-probe/x.eml']));
          await refused('list /etc/cron.d/queue', () => rawVerb(['list', '/etc/cron.d/queue']));
        });
        expect(existsSync('/etc/cron.d/mailops-probe')).toBe(false);
      } finally {
        writeFileSync(conf, original);
      }
    });
  });

  // --- 3. modes and owners from a fixed set ----------------------------------------------------------------------

  describe('3. modes and owners only from the fixed set', () => {
    const badFileModes = [
      '4755',
      '2755',
      '1777',
      '0666',
      '0777',
      '6644',
      '4644',
      '2644',
      '1644',
      '0755',
      '0664',
      '0660',
      '0646',
      '0700',
      '0',
      '7777',
      '04755',
      'u+s',
      '+s',
      '-1',
      '0o644',
      '644 ',
      ' 644',
      '644\n',
      '',
    ];
    const badDirModes = [
      '4755',
      '2755',
      '1777',
      '0666',
      '0777',
      '0775',
      '0770',
      '0757',
      '1755',
      '3755',
      '0644',
      '0600',
      'u+s',
      '-1',
      '0o755',
      '',
    ];
    const badOwners = [
      'nobody',
      'chasquid',
      'chasquid:chasquid',
      'root:nobody',
      'nobody:root',
      'nobody:chasquid',
      '0:0',
      '0',
      'root:',
      ':chasquid',
      ':root',
      'root:chasquid:x',
      'root:shadow',
      'root:sudo',
      '-1',
    ];

    it('refuses set-id, sticky, executable and group/world-writable modes for a new file, and owners other than root[:chasquid]', async () => {
      const file = `${domainDir}/users`;
      rmSync(file, { force: true });
      await withLease(async (token) => {
        for (const mode of badFileModes)
          await refused(`new file mode ${JSON.stringify(mode)}`, () => apply(token, write(file, '', { mode })));
        for (const owner of badOwners)
          await refused(`new file owner ${owner}`, () => apply(token, write(file, '', { owner, mode: '640' })));
      });
      expect(existsSync(file)).toBe(false);
    });

    it('never makes a private key readable by others: 0644 is refused for a new key file and through ownership', async () => {
      const key = `${dir}/certs/${lab.hostname}/privkey.pem`;
      const before = readFileSync(key);
      const mode = statSync(key).mode & 0o777;
      await withLease(async (token) => {
        await refused('new DKIM key 0644', () => apply(token, write(`${domainDir}/dkim:world.pem`, before.toString(), { mode: '644' })));
        await refused('ownership of a key 0644', () => rawVerb(['--lease', token, 'ownership', key, '', '644']));
      });
      expect(existsSync(`${domainDir}/dkim:world.pem`)).toBe(false);
      expect(statSync(key).mode & 0o777).toBe(mode);
    });

    it('refuses those modes and owners for a new directory', async () => {
      await withLease(async (token) => {
        for (const mode of badDirModes)
          await refused(`dir mode ${JSON.stringify(mode)}`, () => apply(token, directory(`${dir}/domains/modes.test`, mode)));
        for (const owner of badOwners)
          await refused(`dir owner ${owner}`, () => apply(token, directory(`${dir}/certs/modes.test`, '750', owner)));
        for (const mode of badDirModes)
          await refused(`probe dir mode ${JSON.stringify(mode)}`, () => apply(token, directory(`${dataDir}/mailops-probe`, mode)));
      });
    });

    it('refuses them through ownership, on every file and directory it manages, and any change to files it does not', async () => {
      await withLease(async (token) => {
        for (const target of [`${domainDir}/aliases`, `${dir}/certs/${lab.hostname}/privkey.pem`]) {
          for (const mode of badFileModes)
            await refused(`ownership ${target} ${JSON.stringify(mode)}`, () => rawVerb(['--lease', token, 'ownership', target, '', mode]));
          for (const owner of ['nobody', 'chasquid', ':nobody', ':shadow', 'root:root', 'root:chasquid', ':chasquid:x', 'chasquid:']) {
            await refused(`ownership ${target} ${owner}`, () => rawVerb(['--lease', token, 'ownership', target, owner, '640']));
          }
        }
        for (const target of [domainDir, `${dir}/domains`, `${dir}/certs`, `${dir}/.mailops-backup`]) {
          if (!existsSync(target)) continue;
          for (const mode of badDirModes)
            await refused(`ownership ${target} ${JSON.stringify(mode)}`, () => rawVerb(['--lease', token, 'ownership', target, '', mode]));
        }
        for (const target of [
          `${dir}/chasquid.conf`,
          `${dir}/hooks/post-data`,
          `${dir}/hooks`,
          dir,
          `${dir}/.git`,
          '/etc/shadow',
          '/etc/passwd',
          `${dataDir}/queue`,
          dataDir,
          `${dataDir}/mailops-probe`,
        ]) {
          await refused(`ownership ${target}`, () => rawVerb(['--lease', token, 'ownership', target, ':chasquid', '640']));
        }
      });
    });

    it('an existing file it replaces loses set-id, sticky, execute and write-for-others bits and a foreign owner', async () => {
      const file = `${domainDir}/aliases`;
      const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
      writeFileSync(file, aliasesWith());
      chownSync(file, nobody, nobody);
      chmodSync(file, 0o6777);
      await withLease(async (token) => {
        expect((await apply(token, write(file, aliasesWith('sanitised: root@example.test')))).code).toBe(0);
      });
      const stat = statSync(file);
      expect({ uid: stat.uid, gid: stat.gid, mode: (stat.mode & 0o7777).toString(8) }).toEqual({ uid: 0, gid: 0, mode: '644' });
    });
  });

  // --- 4. code that chasquid runs ------------------------------------------------------------------------------------

  describe('4. nothing that chasquid runs', () => {
    it('cannot replace hooks/post-data or add another hook', async () => {
      await withLease(async (token) => {
        for (const name of ['post-data', 'alias-resolve', 'alias-exists', 'pre-data']) {
          await refused(`hooks/${name}`, () => apply(token, write(`${dir}/hooks/${name}`, touchMarker, { mode: '644' })));
        }
        await refused('remove hooks/post-data', () => apply(token, removal(`${dir}/hooks/post-data`)));
        await refused('mkdir hooks', () => apply(token, directory(`${dir}/hooks`)));
      });
    });

    it('refuses a pipe alias in every spelling, and the probe inbox line with another path or domain', async () => {
      const dd = '/usr/bin/dd';
      const probe = (domain: string, file = `${dataDir}/mailops-probe/${domain}.eml`) =>
        `mailops-probe-inbox: | ${dd} of=${file} status=none`;
      const otherDomain = path.join(dir, 'domains/other.test');
      mkdirSync(otherDomain, { mode: 0o755 });
      // An operator's own pipe alias in another domain's file: copying it into this domain's file is a new pipe here.
      writeFileSync(path.join(otherDomain, 'aliases'), `tickets: | /usr/bin/touch ${marker}\n`);
      const touch = `/usr/bin/touch ${marker}`;
      try {
        await withLease(async (token) => {
          for (const line of [
            `x: | ${touch}`,
            `x: |${touch}`,
            `x:|${touch}`,
            `x:| ${touch}`,
            `   x: | ${touch}`,
            `\tx:\t|\t${touch}`,
            `x: | ${touch}\r`,
            `x: root@example.test, | ${touch}`,
            `x: root@example.test,| ${touch}`,
            `x:\u00a0| ${touch}`,
            `x:\u2003|${touch}`,
            `x: \u3000| ${touch}`,
            `\u00a0x: | ${touch}`,
            `X: | ${touch}`,
            `*: | ${touch}`,
            `x : | ${touch}`,
            `x: ||${touch}`,
            `x: | sh -c 'touch ${marker}'`,
            `tickets: | /usr/bin/touch ${marker}`,
            probe('example.test', `/etc/cron.d/mailops`),
            probe('other.test'),
            probe('example.test', `${dataDir}/mailops-probe/../../../../../etc/cron.d/x.eml`),
            `${probe('example.test')} ${marker}`,
            `${probe('example.test')}\r`,
            probe('example.test').replace('| ', '|'),
            probe('example.test').replace(dd, '/bin/dd'),
            `mailops-probe-inbox: | ${touch}`,
            `x: ${probe('example.test').slice('mailops-probe-inbox: '.length)}`,
          ]) {
            await refused(`aliases line ${JSON.stringify(line)}`, () =>
              apply(token, write(`${domainDir}/aliases`, aliasesWith('# a comment', line)))
            );
          }
          // Spread over lines, as chasquid would read the first one.
          await refused('pipe on the last line without a newline', () =>
            apply(token, write(`${domainDir}/aliases`, `postmaster: root@example.test\nx: | ${touch}`))
          );
          await refused('pipe after CR-only line breaks', () =>
            apply(token, write(`${domainDir}/aliases`, `postmaster: root@example.test\rx: | ${touch}\r`))
          );
        });
        expect(await markerAfterDelivery('x@example.test')).toBe(false);
      } finally {
        rmSync(otherDomain, { recursive: true, force: true });
      }
    });

    it('refuses a pipe alias hidden by a NUL byte elsewhere in the file (grep calls the file binary and prints no line), and chasquid runs nothing', async () => {
      const before = fingerprint();
      const result = await withLease((token) =>
        apply(token, write(`${domainDir}/aliases`, Buffer.from(aliasesWith('#\0', `nul: | /usr/bin/touch ${marker}`))))
      );
      const ran = await markerAfterDelivery('nul@example.test');
      expect({ code: result.code, ran }).toEqual({ code: refusedStatus, ran: false });
      expect(fingerprint()).toEqual(before);
    });

    it("keeps mailops's own probe inbox line and an operator's existing pipe line (what mailops itself writes)", async () => {
      const operator = `ops: | /usr/bin/logger mailops-lab-${build}`;
      writeFileSync(`${domainDir}/aliases`, aliasesWith(operator));
      await withLease(async (token) => {
        const kept = await apply(
          token,
          write(
            `${domainDir}/aliases`,
            aliasesWith(
              operator,
              'new: root@example.test',
              `mailops-probe-inbox: | /usr/bin/dd of=${dataDir}/mailops-probe/example.test.eml status=none`
            )
          )
        );
        expect(kept.stderr).toBe('');
        expect(kept.code).toBe(0);
        await refused("a second copy of the operator's command under another name", () =>
          apply(token, write(`${domainDir}/aliases`, aliasesWith(operator, `evil: | /usr/bin/logger mailops-lab-${build}`)))
        );
      });
      writeFileSync(`${domainDir}/aliases`, aliasesWith());
    });

    it('refuses users files that are not users files', async () => {
      const file = `${domainDir}/users`;
      await withLease(async (token) => {
        for (const [what, content] of [
          ['an aliases file', aliasesWith()],
          ['a shell script', touchMarker],
          ['a PEM key', privateKeyPem()],
          [
            'command substitution after a valid entry',
            `users: {\n  key: "a"\n  value: { plain: { password: "x" } }\n}\n$(touch ${marker})\n`,
          ],
          ['an unknown field', 'users: { key: "a" value: { plain: { password: "x" } } }\nhooks: "x"\n'],
          ['an unterminated string', 'users: { key: "a\n'],
          ['random bytes', randomBytes(256)],
          ['a NUL byte', 'users: {\n}\n\0\n'],
          ['a pipe alias', `x: | /usr/bin/touch ${marker}\n`],
        ] as const) {
          await refused(`users file: ${what}`, () => apply(token, write(file, content, { mode: '640', owner: 'root:chasquid' })));
        }
      });
    });

    it('refuses PEM files that are garbage or not of the kind their name says', async () => {
      const key = privateKeyPem();
      const chain = readFileSync(path.join(dir, 'certs', lab.hostname, 'fullchain.pem'), 'utf8');
      const certDir = path.join(dir, 'certs', lab.hostname);
      await withLease(async (token) => {
        for (const [what, file, content] of [
          ['a key as the chain', `${certDir}/fullchain.pem`, key],
          ['a chain as the key', `${certDir}/privkey.pem`, chain],
          ['two keys', `${certDir}/privkey.pem`, `${key}${key}`],
          ['a key and a certificate', `${certDir}/privkey.pem`, `${key}${chain}`],
          ['text after the end', `${certDir}/fullchain.pem`, `${chain}touch ${marker}\n`],
          ['text before the start', `${certDir}/privkey.pem`, `#!/bin/sh\n${key}`],
          ['an encrypted-key header', `${certDir}/privkey.pem`, key.replace('\n', '\nProc-Type: 4,ENCRYPTED\n')],
          ['an unterminated block', `${certDir}/fullchain.pem`, chain.split('-----END')[0] ?? ''],
          ['a NUL byte', `${certDir}/fullchain.pem`, chain.replace('\n', '\0\n')],
          ['an empty file', `${certDir}/fullchain.pem`, ''],
          [
            'a line over 76 characters',
            `${certDir}/fullchain.pem`,
            chain.replace(/\n([A-Za-z0-9+/]{64})\n([A-Za-z0-9+/]{64})\n/, '\n$1$2\n'),
          ],
          ['random bytes', `${certDir}/privkey.pem`, randomBytes(300)],
          ['another label', `${certDir}/fullchain.pem`, chain.replaceAll('CERTIFICATE', 'X509 CRL')],
          ['a certificate as a DKIM key', `${domainDir}/dkim:attack.pem`, chain],
          ['a shell script as a DKIM key', `${certDir}/dkim_privkey.pem`, touchMarker],
          ['a selector that is not one', `${domainDir}/dkim_selector`, '-s evil; touch x\n'],
          ['two selectors', `${domainDir}/dkim_selector`, 'a\nb\n'],
        ] as const) {
          await refused(`PEM: ${what}`, () => apply(token, write(file, content, { mode: '640', owner: 'root:chasquid' })));
        }
      });
    });
  });

  // --- 5. links lead nowhere ---------------------------------------------------------------------------------------

  describe('5. no symbolic link leads out', () => {
    const secret = `TOP SECRET ${randomBytes(4).toString('hex')}`;

    async function throughLink(
      what: string,
      link: string,
      target: string,
      attacks: Array<(token: string) => Promise<ExecResult>>,
      owner?: { uid: number; gid: number }
    ) {
      const aside = `${link}.aside`;
      const existed = existsSync(link);
      if (existed) renameSync(link, aside);
      symlinkSync(target, link);
      if (owner !== undefined) lchownSync(link, owner.uid, owner.gid);
      try {
        await withLease(async (token) => {
          for (const attack of attacks) {
            const result = await refused(what, () => attack(token));
            expect(result.stdout.toString()).not.toContain(secret);
          }
        });
      } finally {
        rmSync(link);
        if (existed) renameSync(aside, link);
      }
    }

    beforeAll(() => {
      mkdirSync(path.join(outside, 'secrets'), { mode: 0o700, recursive: true });
      for (const name of ['aliases', 'users', 'privkey.pem', 'fullchain.pem', 'dkim_selector', 'secret.eml']) {
        writeFileSync(path.join(outside, 'secrets', name), `${secret}\n`, { mode: 0o600 });
      }
    });

    it('refuses a symbolic link as domains/<domain>, certs/<name>, domains, certs, .mailops-backup or .mailops-state', async () => {
      const secrets = path.join(outside, 'secrets');
      const domainAttacks = (domain: string) => [
        (token: string) => apply(token, write(`${dir}/domains/${domain}/aliases`, aliasesWith())),
        () => rawVerb(['read', `${dir}/domains/${domain}/aliases`]),
        () => rawVerb(['hash', `${dir}/domains/${domain}/users`]),
        () => rawVerb(['list', `${dir}/domains/${domain}`]),
        (token: string) => rawVerb(['--lease', token, 'ownership', `${dir}/domains/${domain}/aliases`, '', '644']),
        (token: string) => apply(token, removal(`${dir}/domains/${domain}/aliases`)),
      ];
      await throughLink('domains/evil.test a link', `${dir}/domains/evil.test`, secrets, domainAttacks('evil.test'));
      await throughLink('domains/example.test a link', domainDir, secrets, domainAttacks('example.test'));
      await throughLink('domains/evil.test a link to /etc/cron.d', `${dir}/domains/evil.test`, '/etc/cron.d', domainAttacks('evil.test'));
      await throughLink('domains a link', `${dir}/domains`, outside, domainAttacks('secrets'));
      const certAttacks = (name: string) => [
        (token: string) => apply(token, write(`${dir}/certs/${name}/privkey.pem`, privateKeyPem())),
        () => rawVerb(['read', `${dir}/certs/${name}/privkey.pem`]),
        () => rawVerb(['stat', `${dir}/certs/${name}/fullchain.pem`]),
        (token: string) => rawVerb(['--lease', token, 'ownership', `${dir}/certs/${name}/privkey.pem`, ':chasquid', '640']),
      ];
      await throughLink('certs/evil a link', `${dir}/certs/evil.example.test`, secrets, certAttacks('evil.example.test'));
      await throughLink('certs a link', `${dir}/certs`, outside, certAttacks('secrets'));
      // Changing an existing file makes a backup: through a linked backup directory, it is refused.
      writeFileSync(`${domainDir}/aliases`, aliasesWith());
      await throughLink('.mailops-backup a link', `${dir}/.mailops-backup`, secrets, [
        (token) => apply(token, write(`${domainDir}/aliases`, aliasesWith('backup: root@example.test'))),
        () => rawVerb(['read', `${dir}/.mailops-backup/cert-previous/x/privkey.pem`]),
      ]);
      // The lock's own directory as a link: taking a lease is refused.
      const state = `${dir}/.mailops-state`;
      renameSync(state, `${state}.aside`);
      symlinkSync(secrets, state);
      try {
        await refused('lease through a linked .mailops-state', () => rawVerb(['lease', 'acquire', '0', 'attacker']));
        await refused('hash through a linked .mailops-state', () => rawVerb(['hash', `${domainDir}/aliases`]));
      } finally {
        rmSync(state);
        renameSync(`${state}.aside`, state);
      }
    });

    it('refuses a managed file that is a link, even to /etc/shadow, and leaves the target alone', async () => {
      for (const [file, target] of [
        [`${domainDir}/aliases`, '/etc/shadow'],
        [`${domainDir}/users`, '/etc/shadow'],
        [`${dir}/certs/${lab.hostname}/privkey.pem`, path.join(outside, 'secrets/privkey.pem')],
      ] as const) {
        await throughLink(`${file} -> ${target}`, file, target, [
          () => rawVerb(['read', file]),
          () => rawVerb(['hash', file]),
          (token) => apply(token, write(file, file.endsWith('.pem') ? privateKeyPem() : aliasesWith(), { base: baseOf(target) })),
          (token) => apply(token, removal(file)),
          (token) => rawVerb(['--lease', token, 'ownership', file, ':chasquid', '640']),
        ]);
      }
    });

    it('refuses a directory on the path that someone else owns or may write', async () => {
      const aliases = () => write(`${domainDir}/aliases`, aliasesWith('owned: root@example.test'));
      const key = () => write(`${dir}/certs/${lab.hostname}/privkey.pem`, privateKeyPem());
      const modeOf = (target: string) => statSync(target).mode & 0o7777;
      const [domainMode, domainsMode, dirMode] = [modeOf(domainDir), modeOf(`${dir}/domains`), modeOf(dir)];
      for (const [what, change, undo, op] of [
        [
          'domains/<d> owned by chasquid',
          () => chownSync(domainDir, lab.daemon.uid, lab.daemon.gid),
          () => chownSync(domainDir, 0, 0),
          aliases,
        ],
        ['domains/<d> group-writable', () => chmodSync(domainDir, 0o775), () => chmodSync(domainDir, domainMode), aliases],
        ['domains world-writable', () => chmodSync(`${dir}/domains`, 0o777), () => chmodSync(`${dir}/domains`, domainsMode), aliases],
        ['domains writable by others', () => chmodSync(`${dir}/domains`, 0o757), () => chmodSync(`${dir}/domains`, domainsMode), aliases],
        [
          'certs/<name> owned by nobody',
          () => chownSync(`${dir}/certs/${lab.hostname}`, 65534, 0),
          () => chownSync(`${dir}/certs/${lab.hostname}`, 0, 0),
          key,
        ],
        ['CHASQUID_DIR group-writable', () => chmodSync(dir, 0o775), () => chmodSync(dir, dirMode), key],
      ] as const) {
        change();
        try {
          await withLease(async (token) => {
            await refused(what, () => apply(token, op()));
          });
        } finally {
          undo();
        }
      }
    });

    it("reaches through links in chasquid's data directory only what chasquid's user could reach itself", async () => {
      const probeDir = path.join(dataDir, 'mailops-probe');
      const daemon = lab.daemon;
      const rootOnly = path.join(outside, 'secrets');
      const attempts = async (what: string, listable: boolean) => {
        for (const [verb, file] of [
          ['read', `${probeDir}/secret.eml`],
          ['read', `${probeDir}/shadow.eml`],
          ['stat', `${probeDir}/secret.eml`],
          ['list', probeDir],
        ] as const) {
          const before = fingerprint();
          const result = await rawVerb([verb, file]);
          const out = result.stdout.toString();
          const revealed = out.includes(secret) || /^root:/m.test(out) || (verb === 'list' && !listable && out !== '');
          expect({ what, verb, file, revealed, read: verb === 'read' && result.code === 0 }).toEqual({
            what,
            verb,
            file,
            revealed: false,
            read: false,
          });
          expect(fingerprint()).toEqual(before);
        }
      };
      // mailops-probe made by chasquid's user as a link to a directory only root may enter, or to /root.
      for (const target of [rootOnly, '/root']) {
        symlinkSync(target, probeDir);
        lchownSync(probeDir, daemon.uid, daemon.gid);
        try {
          await attempts(`mailops-probe -> ${target}`, false);
          await withLease(async (token) => {
            await refused('write through it', () => apply(token, write(`${probeDir}/x.eml`, 'x')));
          });
        } finally {
          rmSync(probeDir);
        }
      }
      // A real mailops-probe of chasquid's, holding links to /etc/shadow and to a root-only file.
      mkdirSync(probeDir, { mode: 0o700 });
      chownSync(probeDir, daemon.uid, daemon.gid);
      symlinkSync('/etc/shadow', `${probeDir}/shadow.eml`);
      symlinkSync(`${rootOnly}/secret.eml`, `${probeDir}/secret.eml`);
      try {
        for (const file of ['shadow.eml', 'secret.eml']) lchownSync(`${probeDir}/${file}`, daemon.uid, daemon.gid);
        await attempts('links inside mailops-probe', true);
      } finally {
        rmSync(probeDir, { recursive: true });
      }
      // A dangling link: creating the probe directory goes as chasquid's user, so nothing appears where the link points.
      const target = path.join(outside, 'made-as-root');
      symlinkSync(target, probeDir);
      lchownSync(probeDir, daemon.uid, daemon.gid);
      try {
        await withLease(async (token) => {
          const result = await apply(token, directory(probeDir, '700'));
          expect(result.code).not.toBe(0);
        });
        expect(existsSync(target)).toBe(false);
      } finally {
        rmSync(probeDir);
      }
    });
  });

  // --- 6. secrets stay out of git ---------------------------------------------------------------------------------

  describe('6. no secret in git history', () => {
    it('commits private keys, DKIM keys and users files as empty commits, with .git 0700 and no object holding them', async () => {
      const certDir = `${dir}/certs/secret.example.test`;
      const certKey = privateKeyPem();
      const dkimKey = privateKeyPem();
      const oldDkimKey = privateKeyPem();
      const users = `users: {\n  key: "secret"\n  value: { scrypt: { logN: 14 r: 8 p: 1 keyLen: 32 salt: "${randomBytes(8).toString('hex')}" encrypted: "${randomBytes(8).toString('hex')}" } }\n}\n`;
      const secrets: Array<[string, string]> = [
        [`${certDir}/privkey.pem`, certKey],
        [`${domainDir}/dkim:attack.pem`, dkimKey],
        [`${dir}/certs/example.test/dkim_privkey.pem`, oldDkimKey],
        [`${domainDir}/users`, users],
      ];
      try {
        await withLease(async (token) => {
          expect((await apply(token, directory(certDir, '755'), directory(`${dir}/certs/example.test`, '755'))).code).toBe(0);
          const written = await apply(
            token,
            ...secrets.map(([file, content]) => write(file, content, { owner: 'root:chasquid', mode: '640' }))
          );
          expect(written.stderr).toBe('');
          const files = await rawVerb([
            '--lease',
            token,
            'git',
            'commit-files',
            'attack: commit the secrets',
            ...secrets.map(([file]) => file),
          ]);
          expect({ code: files.code, out: files.stdout.toString().trim() }).toEqual({ code: 0, out: 'committed' });
          expect((await commitPending(token, 'attack: commit everything')).code).toBe(0);
          // The directories that hold them, named whole.
          const directories = await rawVerb([
            '--lease',
            token,
            'git',
            'commit-files',
            'attack: the directories',
            `${dir}/certs`,
            `${dir}/domains`,
          ]);
          expect(directories.code).toBe(0);
        });
        const tracked = git('ls-files');
        for (const [file, content] of secrets) {
          expect(tracked).not.toContain(path.relative(dir, file));
          const object = execFileSync('git', ['hash-object', '--stdin'], { input: content, encoding: 'utf8' }).trim();
          expect({ file, stored: spawnSync('git', ['-C', dir, 'cat-file', '-e', object]).status === 0 }).toEqual({ file, stored: false });
        }
        expect(tracked).not.toMatch(/^\.mailops-(backup|state)\//m);
        expect(git('log', '-3', '--format=%s')).toContain('attack: commit the secrets');
        expect((statSync(`${dir}/.git`).mode & 0o777).toString(8)).toBe('700');
        const exclude = readFileSync(`${dir}/.git/info/exclude`, 'utf8');
        for (const pattern of [
          '/certs/*/privkey.pem',
          '/certs/*/dkim_privkey.pem',
          '/domains/*/dkim:*.pem',
          '/domains/*/users',
          '/.mailops-backup/',
          '/.mailops-bin/',
        ]) {
          expect(exclude).toContain(pattern);
        }
        await refused('read .git/config', () => rawVerb(['read', `${dir}/.git/config`]));
        await refused('list .git/objects', () => rawVerb(['list', `${dir}/.git/objects`]));
      } finally {
        rmSync(certDir, { recursive: true, force: true });
        rmSync(`${dir}/certs/example.test`, { recursive: true, force: true });
        rmSync(`${domainDir}/dkim:attack.pem`, { force: true });
      }
    });
  });

  // --- 7. bounded work ----------------------------------------------------------------------------------------------

  describe('7. bounded uploads and leases', () => {
    it('stores no more than the declared size of an upload, however much is sent', async () => {
      const content = aliasesWith('bounded: root@example.test');
      const file = `${domainDir}/aliases`;
      const op = write(file, content);
      const flood = Buffer.alloc(20 * mebibyte, 'a: b\n');
      const result = await withLease((token) =>
        rawVerb(['--lease', token, ...applyWords([op])], Buffer.concat([Buffer.from(content), flood]), 120_000)
      );
      expect(result.code).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(content);
      const leftovers = spawnSync('find', [dir, '-name', '.mailops-write.*', '-o', '-size', '+17M'], { encoding: 'utf8' }).stdout;
      expect(leftovers).toBe('');
    }, 180_000);

    it('refuses a declared size over 16 MiB, or one that is not a plain number, before reading anything', async () => {
      await withLease(async (token) => {
        for (const size of [String(16 * mebibyte + 1), '99999999999999999999999', '-1', '1e9', '0x10', ' 10', '10 ', '']) {
          await refused(`declared size ${JSON.stringify(size)}`, () =>
            apply(token, write(`${domainDir}/aliases`, aliasesWith(), { size }))
          );
        }
      });
    });

    it('refuses more than 32 MiB in one change, also when the sizes are written with leading zeros (which sh arithmetic reads as octal)', async () => {
      const chunk = Buffer.alloc(16 * mebibyte, 'a: b\n');
      const file = `${domainDir}/aliases`;
      await withLease(async (token) => {
        for (const size of [String(16 * mebibyte), `0${16 * mebibyte}`]) {
          const ops = [0, 1, 2].map(() => ({
            ...write(file, chunk),
            words: ['w', file, size, sha256(chunk), baseOf(file), '', '644'],
            data: chunk,
          }));
          await refused(`three writes of ${size} bytes`, () => apply(token, ...ops));
        }
      });
      expect(spawnSync('find', [dir, '-name', '.mailops-write.*'], { encoding: 'utf8' }).stdout).toBe('');
    }, 300_000);

    it('does not let an upload that never ends keep the host locked', async () => {
      const acquired = await rawVerb(['lease', 'acquire', '0', 'attacker', '20']);
      const token = acquired.stdout.toString().trim();
      expect(acquired.code).toBe(0);
      const words = ['--chasquid-dir', dir, '--lease', token, ...applyWords([write(`${domainDir}/aliases`, Buffer.alloc(1000, 'a'))])];
      const ssh = spawn(
        'ssh',
        [
          '-i',
          lab.env.SSH_KEY_FILE ?? '',
          '-o',
          `UserKnownHostsFile=${lab.env.SSH_KNOWN_HOSTS_FILE}`,
          '-o',
          'BatchMode=yes',
          '-p',
          String(lab.ports.ssh),
          `${user}@127.0.0.1`,
          ['mailops-v1', ...words.map(encode)].map((word) => `'${word}'`).join(' '),
        ],
        { stdio: ['pipe', 'ignore', 'ignore'] }
      );
      const ended = new Promise<number | null>((resolve) => ssh.once('exit', (code) => resolve(code)));
      const stagedBefore = readdirSync(domainDir);
      try {
        ssh.stdin.write('a: b\n');
        // The host stages the upload in a temporary file beside its target, under its state lock, and waits for the rest.
        await waitFor(
          'the host to stage the stalled upload',
          () => readdirSync(domainDir).some((name) => name.startsWith('.mailops-write.') && !stagedBefore.includes(name)),
          { timeoutMs: 30_000 }
        );
        const started = Date.now();
        const other = await rawVerb(['lease', 'acquire', '0', 'another-mailops'], undefined, 150_000);
        const waited = Date.now() - started;
        expect({ code: other.code, stderr: other.stderr, withinAMinute: waited < 60_000 }).toEqual({
          code: 0,
          stderr: '',
          withinAMinute: true,
        });
        await rawVerb(['lease', 'release', other.stdout.toString().trim()]);
        // The stalled upload itself was given up ("incomplete upload", status 1), not left holding the lock.
        expect(await withDeadline('the stalled upload to end', ended, 10_000)).toBe(1);
      } finally {
        ssh.kill('SIGKILL');
      }
      expect(readFileSync(`${domainDir}/aliases`, 'utf8')).not.toContain('aaaa');
    }, 200_000);

    it('refuses leases of absurd lengths, and a lease renewed past its hour', async () => {
      for (const length of ['0', '1', '46', '3600', '86400', '99999999999999999999', '-5', '45s', '0x2d', ' 45', '4 5']) {
        await refused(`lease of ${JSON.stringify(length)} s`, () => rawVerb(['lease', 'acquire', '0', 'attacker', length]));
      }
      const acquired = await rawVerb(['lease', 'acquire', '0', 'attacker']);
      const token = acquired.stdout.toString().trim();
      // An hour of renewals every few seconds, as the lease file shows it after that hour (acquired 3600 s ago, renewed now).
      const leaseFile = `${dir}/.mailops-state/lease`;
      const [held, , , length, holder] = readFileSync(leaseFile, 'utf8').trim().split(' ');
      expect(held).toBe(token);
      const now = Math.floor(Date.now() / 1000);
      writeFileSync(leaseFile, `${token} ${now + 40} ${now - 3600} ${length} ${holder}\n`);
      await refused('renew after an hour', () => rawVerb(['lease', 'renew', token]), noLeaseStatus);
      await refused(
        'write after an hour',
        () => apply(token, write(`${domainDir}/aliases`, aliasesWith('late: root@example.test'))),
        noLeaseStatus
      );
      const other = await rawVerb(['lease', 'acquire', '0', 'another-mailops']);
      expect(other.code).toBe(0);
      expect(other.stdout.toString().trim()).not.toBe(token);
      await rawVerb(['lease', 'release', other.stdout.toString().trim()]);
    });

    it('refuses every change without the current lease', async () => {
      const file = `${domainDir}/aliases`;
      for (const [what, words] of [
        ['apply without a lease', applyWords([write(file, aliasesWith('nolease: root@example.test'))])],
        [
          'apply with a made-up lease',
          ['--lease', 'ab'.repeat(16), ...applyWords([write(file, aliasesWith('nolease: root@example.test'))])],
        ],
        ['ownership without a lease', ['ownership', file, '', '600']],
        ['commit without a lease', ['git', 'commit-pending', 'x']],
        ['restart without a lease', ['restart']],
        ['renew a made-up lease', ['lease', 'renew', 'cd'.repeat(16)]],
      ] as const) {
        await refused(what, () => rawVerb([...words], aliasesWith('nolease: root@example.test')), noLeaseStatus);
      }
      await refused('a lease that is not hex', () => rawVerb(['--lease', 'zz; touch x', ...applyWords([write(file, aliasesWith())])]));
    });
  });

  // --- 8. the key reaches none of host-setup's own files ------------------------------------------------------------

  describe("8. nothing of host-setup.sh's own", () => {
    it('cannot read or change its settings, sudo rule, authorized_keys, the helper itself, or pick another CHASQUID_DIR', async () => {
      const sudoers = `/etc/sudoers.d/mailops-host-${user.replaceAll('-', '_')}`;
      const targets = [
        `/etc/mailops-host/${user}.conf`,
        sudoers,
        `/var/lib/${user}/.ssh/authorized_keys`,
        `${prefix}/mailops-host`,
        `${prefix}/mailops-forced-command`,
        '/root/.ssh/authorized_keys',
      ];
      await withLease(async (token) => {
        for (const file of targets) {
          await refused(`read ${file}`, () => rawVerb(['read', file]));
          await refused(`write ${file}`, () => apply(token, write(file, 'ssh-ed25519 AAAA attacker\n')));
          await refused(`remove ${file}`, () => apply(token, removal(file)));
          await refused(`ownership ${file}`, () => rawVerb(['--lease', token, 'ownership', file, '', '644']));
        }
        for (const other of ['/', '/etc', '/etc/mailops-host', outside, `${dir}/domains`, `${dir}/`, `${dir}/.`]) {
          await refused(`--chasquid-dir ${other}`, () =>
            raw(['--chasquid-dir', other, 'read', `${other.replace(/\/$/, '')}/chasquid.conf`])
          );
        }
      });
    });

    it('gets no shell, subsystem or other command through the forced command', () => {
      const sshArgs = [
        '-i',
        lab.env.SSH_KEY_FILE ?? '',
        '-o',
        `UserKnownHostsFile=${lab.env.SSH_KNOWN_HOSTS_FILE}`,
        '-o',
        'BatchMode=yes',
        '-p',
        String(lab.ports.ssh),
      ];
      const target = `${user}@127.0.0.1`;
      for (const args of [
        ['-T', target],
        ['-s', target, 'sftp'],
        [target, `'mailops-v1' '${encode('hello')}'; touch ${marker}`],
        [target, `'mailops-v1' '${encode('hello')}' $(touch ${marker})`],
        [target, `'mailops-v1' "${encode('hello')}"`],
        [target, `'mailops-v1'\n'${encode('hello')}'`],
        [target, 'sudo -n -l'],
        [target, `/usr/bin/touch ${marker}`],
      ]) {
        const before = fingerprint();
        const result = spawnSync('ssh', [...sshArgs, ...args], { encoding: 'utf8', timeout: 30_000, input: '' });
        // (ssh shows no error output for a subsystem)
        const message = args[0] === '-s' ? expect.any(String) : expect.stringContaining('may only run mailops operations');
        expect({ args, status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
          args,
          status: 64,
          stdout: '',
          stderr: message,
        });
        expect(fingerprint()).toEqual(before);
      }
    });
  });

  // --- 9. the report spool and the mail log ----------------------------------------------------------------------

  describe('9. the report spool and the mail log', () => {
    const spooler = () => `${dir}/.mailops-bin/report-spool`;
    const spool = () => `${dataDir}/mailops-reports`;
    const reportLine = (local = 'mailops-reports') => `${local}: | ${spooler()} ${spool()}`;
    const secret = `REPORT SECRET ${randomBytes(4).toString('hex')}`;
    /** Files chasquid's user made, as it makes them (for the spool and the log, which are chasquid's). */
    const asDaemon = (file: string) => lchownSync(file, lab.daemon.uid, lab.daemon.gid);
    let rootOnly: string;

    beforeAll(async () => {
      // The spooler as mailops installs it, through the key: what every attack below tries to go around.
      const installed = await withLease((token) => rawVerb(['--lease', token, 'report-spooler']));
      expect({ code: installed.code, out: installed.stdout.toString() }).toEqual({ code: 0, out: `${spooler()}\n` });
      const made = await withLease((token) => apply(token, directory(spool(), '700')));
      expect(made.code).toBe(0);
      expect(statSync(spool()).uid).toBe(lab.daemon.uid);
      rootOnly = path.join(outside, 'report-secrets');
      mkdirSync(rootOnly, { mode: 0o700, recursive: true });
      writeFileSync(path.join(rootOnly, 'secret.eml'), `${secret}\n`, { mode: 0o600 });
    });

    it('refuses every report pipe alias but the exact line, for one lower-case local part', async () => {
      const valid = reportLine();
      const tooLong = 'a'.repeat(65);
      const lines = [
        `mailops-reports: | /bin/sh ${spool()}`,
        `mailops-reports: | /usr/bin/touch ${marker}`,
        `mailops-reports: | ${dir}/.mailops-bin/other ${spool()}`,
        `mailops-reports: | ${spooler()}`,
        `mailops-reports: | ${spooler()} ${spool()} ${marker}`,
        `mailops-reports: | ${spooler()} ${spool()} x`,
        `mailops-reports: | ${spooler()} ${spool()};touch ${marker}`,
        `mailops-reports: | ${spooler()} ${spool()} ; touch ${marker}`,
        `mailops-reports: | ${spooler()} ${spool()} && touch ${marker}`,
        `mailops-reports: | ${spooler()} ${spool()}&&touch ${marker}`,
        `mailops-reports: | ${spooler()} /etc/cron.d`,
        `mailops-reports: | ${spooler()} ${dataDir}/mailops-probe`,
        `mailops-reports: | ${spooler()} ${outside}`,
        `mailops-reports: | ${spooler()} ${spool()}/`,
        `mailops-reports: | ${spooler()} ${spool()}/../../../../../etc/cron.d`,
        `mailops-reports: | ${spooler()} ${dataDir}/../chasquid/mailops-reports`,
        `mailops-reports: | ${dir}/.mailops-bin/../.mailops-bin/report-spool ${spool()}`,
        `mailops-reports: | ${dir}/domains/../.mailops-bin/report-spool ${spool()}`,
        `mailops-reports: | ${outside}/.mailops-bin/report-spool ${spool()}`,
        `mailops-reports: | /etc/chasquid/.mailops-bin/report-spool ${spool()}`,
        `mailops-reports: | ${spooler()} ${spool()} | ${spooler()} ${spool()}`,
        `mailops-reports: | ${spooler()} ${spool()}, | /usr/bin/touch ${marker}`,
        `mailops-reports: root@example.test, | ${spooler()} ${spool()}`,
        `mailops-reports: |${spooler()} ${spool()}`,
        `mailops-reports:| ${spooler()} ${spool()}`,
        `mailops-reports:  | ${spooler()} ${spool()}`,
        `mailops-reports: | ${spooler()}  ${spool()}`,
        `mailops-reports: | ${spooler()}\t${spool()}`,
        `${valid}\r`,
        `${valid} `,
        ` ${valid}`,
        `\t${valid}`,
        reportLine('Mailops-Reports'),
        reportLine('MAILOPS'),
        reportLine('mailops reports'),
        reportLine('mailops:reports'),
        reportLine('mailops-reports '),
        reportLine('.reports'),
        reportLine('-reports'),
        reportLine('_reports'),
        reportLine('*'),
        reportLine(''),
        reportLine(tooLong),
        reportLine('rep\u00e9rts'),
        reportLine('reports\u00a0'),
        reportLine('reports+x'),
        reportLine('reports@example.test'),
        reportLine('reports/x'),
      ];
      expect(lines.length).toBeGreaterThan(40);
      await withLease(async (token) => {
        for (const line of lines) {
          await refused(`aliases line ${JSON.stringify(line)}`, () => apply(token, write(`${domainDir}/aliases`, aliasesWith(line))));
        }
        // The exact line, for any allowed local part, is what mailops writes and is kept.
        for (const local of ['mailops-reports', 'dmarc.reports_2-x', 'a'.repeat(64)]) {
          const accepted = await apply(token, write(`${domainDir}/aliases`, aliasesWith(reportLine(local))));
          expect({ local, code: accepted.code, stderr: accepted.stderr }).toEqual({ local, code: 0, stderr: '' });
          expect(readFileSync(`${domainDir}/aliases`, 'utf8')).toBe(aliasesWith(reportLine(local)));
        }
        expect((await apply(token, write(`${domainDir}/aliases`, aliasesWith()))).code).toBe(0);
      });
      expect(await markerAfterDelivery('mailops-reports@example.test')).toBe(false);
    });

    it('reads and discards only <name>.eml files in the spool, and nothing else in it or beside it', async () => {
      const report = `${spool()}/1700000000-42-00ff.eml`;
      const others = {
        part: `${spool()}/.1700000000-43-00ff.part`,
        dotfile: `${spool()}/.hidden.eml`,
        dropped: `${spool()}/dropped`,
        capture: `${dataDir}/mailops-probe/example.test.eml`,
      };
      const captureDir = path.dirname(others.capture);
      const madeCaptureDir = !existsSync(captureDir);
      mkdirSync(captureDir, { recursive: true, mode: 0o700 });
      asDaemon(captureDir);
      for (const file of [report, ...Object.values(others)]) {
        writeFileSync(file, `${secret} in ${path.basename(file)}\n`, { mode: 0o600 });
        asDaemon(file);
      }
      const paths = [
        ...Object.values(others),
        `${spool()}/../mailops-probe/example.test.eml`,
        `${spool()}/a..b.eml`,
        `${spool()}/..eml`,
        `${spool()}/.eml`,
        `${spool()}/-x.eml`,
        `${spool()}/x.eml.part`,
        `${spool()}/x.EML`,
        `${spool()}/x.y.eml`,
        `${spool()}/sub/x.eml`,
        `${spool()}/x eml.eml`,
        `${spool()}/x\n.eml`,
        `${spool()}//1700000000-42-00ff.eml`,
        `${spool()}/./1700000000-42-00ff.eml`,
        `${dataDir}/mailops-reports.eml`,
        `${dataDir}/queue/x.eml`,
        `${dir}/mailops-reports/x.eml`,
        '/etc/shadow',
        `${spool()}/../../../../../../etc/shadow`,
      ];
      for (const file of paths) {
        const discarded = await refused(`discard ${file}`, () => rawVerb(['discard', file]));
        expect(discarded.stdout.toString()).toBe('');
        // (The probe's captures are read, as the probe needs; never discarded.)
        if (!file.includes('..') && !file.includes('//') && !file.includes('/./') && !file.startsWith('/etc') && file !== others.capture) {
          const read = await refused(`read ${file}`, () => rawVerb(['read', file]));
          expect(read.stdout.toString()).not.toContain(secret);
        }
      }
      await refused('discard the spool itself', () => rawVerb(['discard', spool()]));
      await refused('discard two at once', () => rawVerb(['discard', report, others.dropped]));
      for (const file of Object.values(others)) expect(readFileSync(file, 'utf8')).toContain(secret);
      // What the spool is for: a report is read and discarded.
      const read = await rawVerb(['read', report]);
      expect({ code: read.code, out: read.stdout.toString() }).toEqual({ code: 0, out: `${secret} in ${path.basename(report)}\n` });
      for (let twice = 0; twice < 2; twice++) expect((await rawVerb(['discard', report])).code).toBe(0);
      expect(existsSync(report)).toBe(false);
      for (const file of Object.values(others)) rmSync(file);
      if (madeCaptureDir) rmSync(captureDir, { recursive: true });
    });

    it("reads the spool and the mail log through chasquid's user: a link planted there reaches no root-only file", async () => {
      const secretFile = path.join(rootOnly, 'secret.eml');
      const log = path.join(lab.dir, 'var/log/mail.log');
      const revealed = (result: ExecResult) => result.stdout.toString().includes(secret) || /^root:/m.test(result.stdout.toString());
      /** `words` reveal nothing of the target (and, unless `answers`, fail). */
      const attempt = async (what: string, words: string[], answers = false) => {
        const before = fingerprint();
        const result = await rawVerb(words);
        const shown = revealed(result) || result.stdout.toString().includes('secret.eml');
        expect({ what, shown, read: !answers && result.code === 0 }).toEqual({ what, shown: false, read: false });
        expect(fingerprint()).toEqual(before);
      };
      // Links inside the spool, made by chasquid's user.
      for (const [name, target] of [
        ['1-1-shadow.eml', '/etc/shadow'],
        ['1-1-secret.eml', secretFile],
      ] as const) {
        const link = `${spool()}/${name}`;
        symlinkSync(target, link);
        asDaemon(link);
        await attempt(`read ${name} -> ${target}`, ['read', link]);
        await attempt(`stat ${name} -> ${target}`, ['stat', link], true);
        // Discarding it removes the link (chasquid's own), never what it points at.
        expect((await rawVerb(['discard', link])).code).toBe(0);
        expect(existsSync(link)).toBe(false);
      }
      expect(readFileSync(secretFile, 'utf8')).toContain(secret);
      // The spool itself a link of chasquid's to a directory only root may enter.
      const aside = `${spool()}.aside`;
      renameSync(spool(), aside);
      symlinkSync(rootOnly, spool());
      asDaemon(spool());
      try {
        await attempt('read through a linked spool', ['read', `${spool()}/secret.eml`]);
        await attempt('list a linked spool', ['list', spool()], true);
        const discarded = await rawVerb(['discard', `${spool()}/secret.eml`]);
        expect(discarded.code).not.toBe(0);
        expect(readFileSync(secretFile, 'utf8')).toContain(secret);
      } finally {
        rmSync(spool());
        renameSync(aside, spool());
      }
      // The mail log, or the rotated log, a link of chasquid's to /etc/shadow or to a root-only file.
      const shadowInode = String(statSync('/etc/shadow').ino);
      const secretInode = String(statSync(secretFile).ino);
      for (const [file, target, inode] of [
        [log, '/etc/shadow', '0'],
        [log, secretFile, '0'],
        [`${log}.1`, '/etc/shadow', shadowInode],
        [`${log}.1`, secretFile, secretInode],
      ] as const) {
        const existed = existsSync(file);
        if (existed) renameSync(file, `${file}.aside`);
        symlinkSync(target, file);
        asDaemon(file);
        try {
          const result = await rawVerb(['mail-log', inode, '0']);
          expect({ file, target, revealed: revealed(result) }).toEqual({ file, target, revealed: false });
          // With only the rotated log a link, the current log is what is read.
          if (file.endsWith('.1')) expect(result.stdout.toString()).toMatch(/^file (\d+) /);
          if (file.endsWith('.1')) expect(result.stdout.toString()).not.toContain(`file ${inode} `);
        } finally {
          rmSync(file);
          if (existed) renameSync(`${file}.aside`, file);
        }
      }
    });

    it('refuses mail-log arguments that are not two plain non-negative numbers, and reads the log for them that are', async () => {
      const words = [
        [],
        ['0'],
        ['0', '0', '0'],
        ['-1', '0'],
        ['0', '-1'],
        ['x', '0'],
        ['0', 'x'],
        ['1e3', '0'],
        ['0x10', '0'],
        ['01', '0'],
        ['0', '00'],
        ['+1', '0'],
        [' 1', '0'],
        ['1\n', '0'],
        ['', '0'],
        ['0', ''],
        ['99999999999999999999', '0'],
        ['0', '1'.repeat(19)],
        ['0', '9'.repeat(40)],
        ['0', '$(touch /tmp/x)'],
        ['0', '1;id'],
        ['/etc/shadow', '0'],
      ];
      for (const args of words) await refused(`mail-log ${JSON.stringify(args)}`, () => rawVerb(['mail-log', ...args]));
      const read = await rawVerb(['mail-log', '0', '0']);
      expect({ code: read.code, header: /^file \d+ \d+ 0\n/.test(read.stdout.toString()) }).toEqual({ code: 0, header: true });
      const big = await rawVerb(['mail-log', '0', '9'.repeat(18)]);
      expect({ code: big.code, header: /^file \d+ \d+ 0\n/.test(big.stdout.toString()) }).toEqual({ code: 0, header: true });
    });

    it('installs the spooler nowhere else: no arguments, the lease, and a .mailops-bin that is root:root 0755 and not a link', async () => {
      const binDir = `${dir}/.mailops-bin`;
      await withLease(async (token) => {
        for (const args of [['x'], ['/etc/cron.d'], [`${outside}/report-spool`], ['--chasquid-dir', outside], ['']]) {
          await refused(`report-spooler ${JSON.stringify(args)}`, () => rawVerb(['--lease', token, 'report-spooler', ...args]));
        }
      });
      await refused('report-spooler without the lease', () => rawVerb(['report-spooler']), noLeaseStatus);
      await refused('report-spooler with a stale lease', () => rawVerb(['--lease', 'ab'.repeat(16), 'report-spooler']), noLeaseStatus);
      // Not the spooler's files through the other verbs either. Reading it (mailops looks whether it is installed)
      // shows only mailops-host's own text.
      const read = await rawVerb(['read', spooler()]);
      expect({ code: read.code, text: /^#!\/bin\/sh\n# report-spool SPOOL/.test(read.stdout.toString()) }).toEqual({ code: 0, text: true });
      await withLease(async (token) => {
        await refused('write the spooler', () => apply(token, write(spooler(), touchMarker)));
        await refused('remove the spooler', () => apply(token, removal(spooler())));
        await refused('mkdir .mailops-bin/x', () => apply(token, directory(`${binDir}/x`)));
        await refused('ownership of the spooler', () => rawVerb(['--lease', token, 'ownership', spooler(), '', '644']));
      });
      const landing = path.join(outside, 'bin-landing');
      mkdirSync(landing, { mode: 0o755, recursive: true });
      const aside = `${binDir}.aside`;
      renameSync(binDir, aside);
      try {
        for (const [what, plant, undo] of [
          ['a link to a directory elsewhere', () => symlinkSync(landing, binDir), () => rmSync(binDir)],
          [
            "a link of chasquid's",
            () => {
              symlinkSync(landing, binDir);
              asDaemon(binDir);
            },
            () => rmSync(binDir),
          ],
          [
            "a directory of chasquid's",
            () => {
              mkdirSync(binDir, { mode: 0o755 });
              asDaemon(binDir);
            },
            () => rmSync(binDir, { recursive: true }),
          ],
          [
            "root's, but group root:chasquid",
            () => (mkdirSync(binDir, { mode: 0o755 }), chownSync(binDir, 0, lab.daemon.gid)),
            () => rmSync(binDir, { recursive: true }),
          ],
          ["root's, mode 0777", () => (mkdirSync(binDir), chmodSync(binDir, 0o777)), () => rmSync(binDir, { recursive: true })],
          ["root's, mode 1777", () => (mkdirSync(binDir), chmodSync(binDir, 0o1777)), () => rmSync(binDir, { recursive: true })],
          ['a file', () => writeFileSync(binDir, touchMarker, { mode: 0o755 }), () => rmSync(binDir)],
        ] as const) {
          plant();
          try {
            await withLease(async (token) => {
              await refused(`.mailops-bin ${what}`, () => rawVerb(['--lease', token, 'report-spooler']));
            });
            expect(readdirSync(landing)).toEqual([]);
          } finally {
            undo();
          }
        }
      } finally {
        renameSync(aside, binDir);
      }
      // A spooler that is a link (only root could have made one there) is replaced, never written through.
      const victim = path.join(outside, 'spooler-victim');
      writeFileSync(victim, `${secret}\n`, { mode: 0o600 });
      rmSync(spooler());
      symlinkSync(victim, spooler());
      const replaced = await withLease((token) => rawVerb(['--lease', token, 'report-spooler']));
      expect(replaced.code).toBe(0);
      expect(readFileSync(victim, 'utf8')).toBe(`${secret}\n`);
      const installed = lstatSync(spooler());
      expect({ file: installed.isFile(), uid: installed.uid, gid: installed.gid, mode: installed.mode & 0o7777 }).toEqual({
        file: true,
        uid: 0,
        gid: 0,
        mode: 0o755,
      });
      // And the program is mailops-host's own, whatever the key sent along.
      const again = await withLease((token) => rawVerb(['--lease', token, 'report-spooler'], touchMarker));
      expect(again.code).toBe(0);
      expect(readFileSync(spooler(), 'utf8')).not.toContain(marker);
      expect(readFileSync(spooler(), 'utf8')).toMatch(/^#!\/bin\/sh\n# report-spool SPOOL/);
    });
  });

  // --- names and paths -----------------------------------------------------------------------------------------

  describe('names and paths outside the allow-list', () => {
    it('refuses names with .., /, upper case, trailing or leading dots, and paths that leave their directory', async () => {
      const paths = [
        `${dir}/domains/../chasquid.conf`,
        `${dir}/domains/example.test/../../chasquid.conf`,
        `${dir}/domains/../../../../../../etc/cron.d/x`,
        `${dir}/domains/./example.test/aliases`,
        `${dir}//domains/example.test/aliases`,
        `${dir}/domains/example.test/aliases/`,
        `${dir}/domains/Example.test/aliases`,
        `${dir}/domains/EXAMPLE.TEST/aliases`,
        `${dir}/domains/example.test./aliases`,
        `${dir}/domains/.example.test/aliases`,
        `${dir}/domains/-example.test/aliases`,
        `${dir}/domains/a..b/aliases`,
        `${dir}/domains/exa mple.test/aliases`,
        `${dir}/domains/exämple.test/aliases`,
        `${dir}/domains/example.test/sub/aliases`,
        `${dir}/domains/example.test/Aliases`,
        `${dir}/domains/example.test/aliases.bak`,
        `${dir}/domains/example.test/.aliases`,
        `${dir}/domains/example.test/dkim:../x.pem`,
        `${dir}/domains/example.test/dkim:a/b.pem`,
        `${dir}/domains/example.test/dkim:-x.pem`,
        `${dir}/domains/example.test/dkim:.pem`,
        `${dir}/domains/example.test/dkim:a b.pem`,
        `${dir}/domains/example.test/dkim:${'a'.repeat(64)}.pem`,
        `${dir}/domains/${'a'.repeat(254)}/aliases`,
        `${dir}/certs/../x/fullchain.pem`,
        `${dir}/certs/Mail.example.test/fullchain.pem`,
        `${dir}/certs/${lab.hostname}/cert.pem`,
        `${dir}/certs/${lab.hostname}/privkey.pem.evil`,
        `${dir}/.mailops-backup/cert-previous/${lab.hostname}/dkim_privkey.pem`,
        `${dir}/.mailops-backup/domains/example.test/users.1`,
        `${dir}/.mailops-backup/x`,
        `${dir}/.mailops-state/lease`,
        `${dir}/.mailops-state/pending`,
        `${dir}/.mailops-state/pending.tmp`,
        `${dir}/new-top-level`,
        `${dir}/.hidden`,
        dir,
        `${dir}x/domains/example.test/aliases`,
        'domains/example.test/aliases',
        `./domains/example.test/aliases`,
        `~/x`,
        `${dir}/domains/example.test/aliases\n`,
        `${dir}/domains/example.test/aliases\tx`,
        `${dataDir}/mailops-probe/x.eml`,
        `${dataDir}/queue/x`,
        `${dataDir}/x`,
        `${dataDir}/../x`,
        '/etc/cron.d/mailops',
        '/etc/shadow',
        '/etc/sudoers.d/evil',
        '/root/.ssh/authorized_keys',
        '-',
      ];
      await withLease(async (token) => {
        for (const file of paths) {
          await refused(`write ${JSON.stringify(file)}`, () => apply(token, write(file, aliasesWith())));
          await refused(`remove ${JSON.stringify(file)}`, () => apply(token, removal(file)));
        }
        for (const target of [
          `${dir}/domains/Evil.test`,
          `${dir}/domains/evil.test.`,
          `${dir}/domains/../evil`,
          `${dir}/evil`,
          `${dir}/hooks/evil`,
          `${dir}/domains/example.test/sub`,
          `${dataDir}/queue`,
          `${dataDir}/evil`,
          `${dataDir}/mailops-probe/sub`,
          '/etc/cron.d/evil',
          `${dir}/.mailops-state/x`,
        ]) {
          await refused(`mkdir ${target}`, () => apply(token, directory(target)));
        }
        // One refused operation refuses the whole change: the valid write before it does not happen either.
        await refused('a valid write with a refused one', () =>
          apply(token, write(`${domainDir}/aliases`, aliasesWith('partial: root@example.test')), write('/etc/cron.d/mailops', 'x'))
        );
        await refused('unknown change kinds', () => rawVerb(['--lease', token, 'apply', 'x', `${domainDir}/aliases`]));
        await refused('a truncated operation', () => rawVerb(['--lease', token, 'apply', 'w', `${domainDir}/aliases`, '3']));
      });
    });

    it('reads /etc/shadow through no read verb and no spelling of its path', async () => {
      const spellings = [
        '/etc/shadow',
        '/etc/./shadow',
        '//etc/shadow',
        '/etc/shadow/',
        'etc/shadow',
        '../../../../etc/shadow',
        `${dir}/../../../../../../etc/shadow`,
        `${dir}/domains/../../../../../../../etc/shadow`,
        `${domainDir}/../../../../../../../../etc/shadow`,
        `${dataDir}/../../../../../etc/shadow`,
        `${dataDir}/mailops-probe/../../../../../../etc/shadow.eml`,
        `${dir}/domains/example.test/users/../../../../../../../../etc/shadow`,
      ];
      await withLease(async (token) => {
        for (const file of spellings) {
          for (const words of [
            ['read', file],
            ['hash', file],
            ['stat', file],
            ['list', file],
            ['list', path.dirname(file)],
            ['--lease', token, 'git', 'commit-files', 'x', file],
            ['--lease', token, 'apply', 'r', file, 'absent'],
            ['--lease', token, 'ownership', file, '', '644'],
          ]) {
            const result = await refused(words.join(' '), () => rawVerb(words));
            expect(result.stdout.toString()).not.toMatch(/root:/);
          }
        }
      });
    });

    it('refuses other restart commands, program names with paths, and verbs it does not have', async () => {
      await withLease(async (token) => {
        for (const args of [
          ['sh', '-c', `touch ${marker}`],
          ['/usr/bin/touch', marker],
          [`${lab.env.CHASQUID_RESTART} ; touch ${marker}`],
          [`${lab.env.CHASQUID_RESTART}`, 'x'],
        ]) {
          await refused(`restart ${args.join(' ')}`, () => rawVerb(['--lease', token, 'restart', ...args]));
        }
      });
      for (const words of [
        ['which', '/bin/sh'],
        ['which', '../sh'],
        ['which', 'sh;id'],
        ['group-of', 'root:x'],
        ['group-of', '../root'],
        ['write', '/etc/passwd', '1', 'x'],
        ['mkdir', '/etc/x', '755', ''],
        ['remove', '/etc/hostname'],
        ['lock'],
        ['exec', 'id'],
        ['sh', '-c', 'id'],
        ['hello; id'],
        ['', 'read', '/etc/shadow'],
        ['lease', 'steal'],
      ]) {
        await refused(words.join(' '), () => rawVerb(words));
      }
    });
  });

  // --- the same rules as root -----------------------------------------------------------------------------------

  describe('the same rules as root (shell mode)', () => {
    it('refuses paths, modes, owners and content outside the allow-list as root too', async () => {
      expect(await root.verbs.mode()).toBe('shell');
      for (const [what, ops] of [
        ['/etc/cron.d', [write('/etc/cron.d/mailops', `* * * * * root touch ${marker}\n`)]],
        ['.git hook', [write(`${dir}/.git/hooks/pre-commit`, touchMarker)]],
        ['chasquid.conf', [write(`${dir}/chasquid.conf`, 'data_dir: "/etc/cron.d"\n')]],
        ['hooks/post-data', [write(`${dir}/hooks/post-data`, touchMarker)]],
        ['traversal', [write(`${dir}/domains/../../../../etc/cron.d/x`, 'x')]],
        ['file mode 4755', [write(`${domainDir}/users`, '', { mode: '4755' })]],
        ['file mode 0666', [write(`${domainDir}/users`, '', { mode: '0666' })]],
        ['owner nobody', [write(`${domainDir}/users`, '', { owner: 'nobody' })]],
        ['dir mode 1777', [directory(`${dir}/domains/root-mode.test`, '1777')]],
        ['pipe alias', [write(`${domainDir}/aliases`, aliasesWith(`x: | /usr/bin/touch ${marker}`))]],
        ['pipe alias behind a NUL', [write(`${domainDir}/aliases`, Buffer.from(aliasesWith('#\0', `x: | /usr/bin/touch ${marker}`)))]],
        ['a key as the chain', [write(`${dir}/certs/${lab.hostname}/fullchain.pem`, privateKeyPem())]],
      ] as const) {
        await refused(`as root: ${what}`, () => applyAs(root, ...ops));
      }
      await refused('as root: ownership 4755', () =>
        root.lock.run(() => root.verbs.call('ownership', [`${domainDir}/aliases`, '', '4755']))
      );
      await refused('as root: read /etc/shadow', () => root.verbs.call('read', ['/etc/shadow']));
      const link = `${dir}/domains/linked.test`;
      symlinkSync(path.join(outside, 'secrets'), link);
      try {
        await refused('as root: through a linked domain', () => applyAs(root, write(`${link}/aliases`, aliasesWith())));
      } finally {
        rmSync(link);
      }
    });
  });
});
