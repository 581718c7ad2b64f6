// deploy/host-setup.sh as an attacker (or a careless operator) would use it: it takes over no account, runs nothing
// from a directory someone else could change, and records chasquid's data directory and mail log for mailops-host,
// read by root from chasquid.conf at set-up time. It runs here as root against the real system (useradd, sudoers,
// /etc/mailops-host), with a chasquid directory of its own: host-setup.sh only reads chasquid.conf.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './lab.ts';

const setupScript = path.join(repoRoot, 'deploy/host-setup.sh');
const configDir = '/etc/mailops-host';

let dir: string;
let keyFile: string;
let chasquidDir: string;
let dataDir: string;
/** Accounts and files a test made; removed after it whatever happened. */
const madeUsers: string[] = [];

function hostSetup(args: string[]): { code: number | null; output: string } {
  const result = spawnSync('sh', [setupScript, ...args], { encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

const newName = (prefix: string) => {
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  madeUsers.push(name);
  return name;
};

const readOrAbsent = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : 'absent');

/** Everything about an account that host-setup.sh must not change when it refuses: its entries, password hash, keys. */
function accountState(user: string): string[] {
  const passwd = spawnSync('getent', ['passwd', user], { encoding: 'utf8' }).stdout;
  const home = passwd.split(':')[5] ?? '';
  return [
    passwd,
    spawnSync('getent', ['shadow', user], { encoding: 'utf8' }).stdout,
    home === '' ? 'no home' : readOrAbsent(path.join(home, '.ssh/authorized_keys')),
    home === '' || !existsSync(home) ? 'no home' : `${statSync(home).uid} ${statSync(home).mode.toString(8)}`,
  ];
}

/** What host-setup.sh would leave behind for `user`: none of it may exist after a refusal. */
function leftovers(user: string, prefix?: string): string[] {
  return [
    `${configDir}/${user}.conf`,
    `${configDir}/${user}.account`,
    `/etc/sudoers.d/mailops-host-${user.replaceAll('-', '_')}`,
    `/var/lib/${user}`,
    ...(prefix ? [prefix] : []),
  ].filter((file) => existsSync(file));
}

const exists = (user: string) => spawnSync('getent', ['passwd', user]).status === 0;

/** A login account as a person has it: a password hash, a key of their own. */
function loginAccount(user: string): void {
  execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', user]);
  execFileSync('usermod', ['-p', '$6$somesalt$n0tArealHashButTheOwnersOwn', user]);
  const ssh = `/home/${user}/.ssh`;
  mkdirSync(ssh, { mode: 0o700 });
  writeFileSync(path.join(ssh, 'authorized_keys'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOfTheOwner owner@laptop\n', { mode: 0o600 });
}

/** A root-owned, 0755 directory under `dir` (the lab's own /tmp directory), for an install prefix. */
function rootDirectory(name: string, mode = 0o755): string {
  const made = path.join(dir, name);
  mkdirSync(made, { mode });
  chmodSync(made, mode);
  return made;
}

const setupArgs = (user: string, extra: string[] = []) => [
  '--user',
  user,
  '--key-file',
  keyFile,
  '--chasquid-dir',
  chasquidDir,
  '--restart',
  'true',
  '--prefix',
  path.join(dir, 'prefix'),
  ...extra,
];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-host-setup-'));
  chmodSync(dir, 0o755);
  keyFile = path.join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mailops', '-f', keyFile]);
  keyFile += '.pub';
  chasquidDir = path.join(dir, 'etc/chasquid');
  dataDir = path.join(dir, 'var/lib/chasquid');
  mkdirSync(chasquidDir, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    path.join(chasquidDir, 'chasquid.conf'),
    [
      'hostname: "mail.example.test"',
      '# data_dir: "/not/this/one"',
      `  data_dir:   "${dataDir}"   # where chasquid keeps its queue`,
      `mail_log_path: '${dir}/var/log/chasquid/mail.log'`,
      '',
    ].join('\n')
  );
});

afterEach(() => {
  for (const user of madeUsers.splice(0)) {
    // The test's own accounts, whoever made them: userdel directly, never through the script under test. Only homes
    // the test made are removed with them; an account with uid 0 (in use by root's processes) needs --force.
    const home = spawnSync('getent', ['passwd', user], { encoding: 'utf8' }).stdout.split(':')[5] ?? '';
    const ownHome = home === `/var/lib/${user}` || home === `/home/${user}`;
    if (exists(user)) spawnSync('userdel', [ownHome ? '--remove' : '--force', user]);
    for (const file of leftovers(user)) rmSync(file, { recursive: true, force: true });
  }
  rmSync(path.join(dir, 'prefix'), { recursive: true, force: true });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('host-setup.sh takes over no account', () => {
  it("refuses --user root, and root's password and keys stay as they were", () => {
    const before = accountState('root');
    for (const args of [setupArgs('root'), [...setupArgs('root'), '--dry-run'], ['--user', 'root', '--remove']]) {
      const refused = hostSetup(args);
      expect(refused.code).toBe(1);
      expect(refused.output).toContain('--user root is refused');
    }
    expect(accountState('root')).toEqual(before);
    expect(leftovers('root')).toEqual([]);
  });

  it('refuses any other account with uid 0', () => {
    const twin = newName('mailops-z');
    execFileSync(
      'useradd',
      ['--non-unique', '--uid', '0', '--gid', '0', '--no-create-home', '--home-dir', `/nonexistent/${twin}`, '--shell', '/bin/sh', twin],
      { stdio: 'ignore' }
    );
    const before = accountState(twin);
    const refused = hostSetup(setupArgs(twin));
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`${twin} has uid 0`);
    expect(accountState(twin)).toEqual(before);
    expect(hostSetup(['--user', twin, '--remove']).code).toBe(1);
    expect(accountState(twin)).toEqual(before);
  });

  it('refuses an existing login account: its password hash, keys and home stay unchanged', () => {
    const person = newName('mailops-p');
    loginAccount(person);
    const before = accountState(person);
    expect(before[1]).toContain('$6$somesalt$');
    for (const args of [setupArgs(person), [...setupArgs(person), '--dry-run']]) {
      const refused = hostSetup(args);
      expect(refused.code).toBe(1);
      expect(refused.output).toContain(`the account ${person} exists and host-setup.sh did not create it`);
      expect(refused.output).not.toContain('would:');
    }
    expect(accountState(person)).toEqual(before);
    expect(leftovers(person, path.join(dir, 'prefix'))).toEqual([]);
  });

  it('refuses an existing system account it did not make (even one shaped like its own)', () => {
    const system = newName('mailops-s');
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--create-home',
      '--home-dir',
      `/var/lib/${system}`,
      '--shell',
      '/bin/sh',
      system,
    ]);
    execFileSync('usermod', ['-p', '*', system]);
    const before = accountState(system);
    const refused = hostSetup(setupArgs(system));
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('did not create it');
    expect(accountState(system)).toEqual(before);
  });

  it('--remove leaves an account it did not make untouched (and says so)', () => {
    const person = newName('mailops-p');
    loginAccount(person);
    const before = accountState(person);
    const removal = hostSetup(['--user', person, '--remove']);
    expect(removal.code).toBe(0);
    expect(removal.output).toContain(`leaving the account ${person} alone: host-setup.sh did not create it`);
    expect(removal.output).not.toContain('remove the user');
    expect(accountState(person)).toEqual(before);
  });

  it('refuses a name whose account it made and which someone later re-created', () => {
    const user = newName('mailops-r');
    expect(hostSetup(setupArgs(user)).code).toBe(0);
    execFileSync('userdel', ['--remove', user]);
    loginAccount(user);
    const before = accountState(user);
    expect(hostSetup(setupArgs(user)).code).toBe(1);
    expect(hostSetup(['--user', user, '--remove']).output).toContain('leaving the account');
    expect(accountState(user)).toEqual(before);
  });

  it('refuses to make an account whose home directory someone already made', () => {
    const user = newName('mailops-h');
    mkdirSync(`/var/lib/${user}/.ssh`, { recursive: true });
    writeFileSync(`/var/lib/${user}/.ssh/authorized_keys`, 'planted\n');
    const refused = hostSetup(setupArgs(user));
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`/var/lib/${user} exists but there is no account ${user}`);
    expect(exists(user)).toBe(false);
    expect(readFileSync(`/var/lib/${user}/.ssh/authorized_keys`, 'utf8')).toBe('planted\n');
  });

  it('marks the account it makes, finds it again on the next run, and --remove removes exactly that', () => {
    const user = newName('mailops-m');
    const made = hostSetup(setupArgs(user));
    expect(made.code).toBe(0);
    expect(made.output).toContain(`create the system user ${user}`);
    const uid = execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim();
    const marker = `${configDir}/${user}.account`;
    expect(readFileSync(marker, 'utf8')).toBe(`USER=${user}\nUID=${uid}\n`);
    expect(statSync(marker)).toMatchObject({ uid: 0, mode: 0o100644 });
    expect(execFileSync('getent', ['passwd', user], { encoding: 'utf8' })).toContain(':mailops restricted user (made by host-setup.sh):');
    const again = hostSetup(setupArgs(user));
    expect(again.code).toBe(0);
    expect(again.output).toContain('nothing to change');

    const removal = hostSetup(['--user', user, '--remove']);
    expect(removal.code).toBe(0);
    expect(removal.output).toContain(`remove the user ${user}`);
    expect(exists(user)).toBe(false);
    expect(leftovers(user)).toEqual([]);
  });

  it('adopts an account made by an earlier host-setup.sh (no marker yet), and only such an account', () => {
    const user = newName('mailops-o');
    expect(hostSetup(setupArgs(user)).code).toBe(0);
    // What an earlier version left: the same account without marker or comment.
    rmSync(`${configDir}/${user}.account`);
    execFileSync('usermod', ['--comment', '', user]);
    const adopted = hostSetup(setupArgs(user));
    expect(adopted.code).toBe(0);
    expect(adopted.output).toContain(`adopt the account ${user}, made by an earlier host-setup.sh`);
    expect(existsSync(`${configDir}/${user}.account`)).toBe(true);
    expect(hostSetup(['--user', user, '--remove']).code).toBe(0);
    expect(exists(user)).toBe(false);
  });
});

describe('host-setup.sh runs nothing from a directory others could change', () => {
  const refusedPrefix = (user: string, prefix: string, expected: string) => {
    const refused = hostSetup([...setupArgs(user), '--prefix', prefix]);
    expect({ code: refused.code, said: refused.output.includes(expected) }).toEqual({ code: 1, said: true });
    expect(exists(user)).toBe(false);
    expect(leftovers(user, prefix)).toEqual([]);
  };

  it('refuses a prefix under a group-writable directory, or one that is group-writable itself', () => {
    const user = newName('mailops-g');
    const shared = rootDirectory('shared', 0o775);
    refusedPrefix(user, path.join(shared, 'mailops'), `${shared} is writable by others than root (mode 775)`);
    const refused = hostSetup([...setupArgs(user), '--prefix', shared]);
    expect({ code: refused.code, said: refused.output.includes(`${shared} is writable by others than root (mode 775)`) }).toEqual({
      code: 1,
      said: true,
    });
    expect(readdirSync(shared)).toEqual([]);
    expect(exists(user)).toBe(false);
  });

  it('refuses a prefix under a directory root does not own', () => {
    const user = newName('mailops-n');
    const foreign = rootDirectory('foreign');
    chownSync(foreign, 65534, 65534);
    refusedPrefix(user, path.join(foreign, 'lib/mailops'), `${foreign} is owned by uid 65534, not root`);
  });

  it('refuses a prefix that goes through a symbolic link', () => {
    const user = newName('mailops-l');
    const real = rootDirectory('real');
    const link = path.join(dir, 'link');
    symlinkSync(real, link);
    refusedPrefix(user, path.join(link, 'mailops'), `${link} is a symbolic link`);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it("accepts a world-writable parent with the sticky bit (nobody else can replace root's entries in it)", () => {
    const user = newName('mailops-t');
    const sticky = rootDirectory('sticky', 0o1777);
    const prefix = path.join(sticky, 'mailops');
    const made = hostSetup([...setupArgs(user), '--prefix', prefix]);
    expect(made.code).toBe(0);
    expect(statSync(prefix)).toMatchObject({ uid: 0, mode: 0o40755 });
    expect(statSync(path.join(prefix, 'mailops-host'))).toMatchObject({ uid: 0, mode: 0o100755 });
    // The sticky directory itself is no prefix: files root runs must sit in a directory only root can write.
    expect(hostSetup([...setupArgs(user), '--prefix', sticky]).output).toContain(`${sticky} is writable by others than root (mode 1777)`);
  });
});

describe("host-setup.sh records chasquid's data directory and mail log", () => {
  const config = (user: string) => readFileSync(`${configDir}/${user}.conf`, 'utf8');

  it('reads data_dir and mail_log_path from chasquid.conf into the root-owned settings (0644 in a 0755 directory)', () => {
    const user = newName('mailops-c');
    const made = hostSetup(setupArgs(user));
    expect(made.code).toBe(0);
    expect(config(user)).toBe(
      [
        `CHASQUID_DIR=${chasquidDir}`,
        'CHASQUID_RESTART=true',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        `DATA_DIR=${dataDir}`,
        `MAIL_LOG=${dir}/var/log/chasquid/mail.log`,
        '',
      ].join('\n')
    );
    expect(statSync(`${configDir}/${user}.conf`)).toMatchObject({ uid: 0, gid: 0, mode: 0o100644 });
    expect(statSync(configDir)).toMatchObject({ uid: 0, mode: 0o40755 });
    expect(made.output).toContain(`chasquid's data directory: ${dataDir} (data_dir in ${chasquidDir}/chasquid.conf)`);
  });

  it('takes --data-dir and --mail-log over chasquid.conf, and says when the data directory changes', () => {
    const user = newName('mailops-c');
    expect(hostSetup(setupArgs(user)).code).toBe(0);
    const other = rootDirectory('other-data');
    const changed = hostSetup(setupArgs(user, ['--data-dir', other, '--mail-log', '<syslog>']));
    expect(changed.code).toBe(0);
    expect(changed.output).toContain(`chasquid's data directory changes from ${dataDir} to ${other} (--data-dir)`);
    expect(config(user)).toContain(`\nDATA_DIR=${other}\nMAIL_LOG=<syslog>\n`);
  });

  it("uses chasquid's defaults when chasquid.conf sets neither", () => {
    const user = newName('mailops-d');
    const bare = rootDirectory('bare-chasquid');
    writeFileSync(path.join(bare, 'chasquid.conf'), '#data_dir: "/elsewhere"\nhostname: "mail.example.test"\n');
    const made = hostSetup(setupArgs(user, ['--chasquid-dir', bare, '--dry-run']));
    // /var/lib/chasquid exists wherever chasquid is installed (the lab installs it).
    expect(made.code).toBe(0);
    expect(made.output).toContain(
      "chasquid's data directory: /var/lib/chasquid (chasquid's default); mail log: <syslog> (chasquid's default)"
    );
  });

  it('refuses a data directory it cannot read plainly, a relative or missing one, or a symbolic link — changing nothing', () => {
    const user = newName('mailops-x');
    const odd = rootDirectory('odd-chasquid');
    for (const [line, said] of [
      ['data_dir: "/var/lib/a" "/b"', 'cannot read data_dir'],
      ['data_dir: "/var/lib/a\\"b"', 'cannot read data_dir'],
      ['data_dir: "/x"\ndata_dir: "/y"', 'sets data_dir more than once'],
      ['data_dir: "relative/dir"', 'must be an absolute path'],
      ['data_dir: "/var/lib/../../etc"', 'must be a plain path'],
      [`data_dir: "${dir}/missing"`, 'does not exist'],
      [`data_dir: "${dir}/link"`, 'is a symbolic link'],
      ['mail_log_path: "/var/log/x; rm -rf /"', 'may hold only'],
    ] as const) {
      if (!existsSync(`${dir}/link`)) symlinkSync(dataDir, `${dir}/link`);
      writeFileSync(path.join(odd, 'chasquid.conf'), `${line}\n`);
      const refused = hostSetup(setupArgs(user, ['--chasquid-dir', odd]));
      expect({ line, code: refused.code, said: refused.output.includes(said) }).toEqual({ line, code: 1, said: true });
      expect(exists(user)).toBe(false);
      expect(leftovers(user)).toEqual([]);
    }
  });
});
