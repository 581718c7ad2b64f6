// deploy/host-setup.sh --install-chasquid: preparing chasquid on a fresh host, against a chasquid directory and an
// install prefix of the test's own (never the machine's /etc/chasquid). chasquid is installed here (the lab needs
// it), so installing it is "already installed"; the rest — the hostname, the git repository, the firewall report —
// runs for real, as root.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from './lab.ts';
import { treeFingerprint } from './tree.ts';

const setupScript = path.join(repoRoot, 'deploy/host-setup.sh');

let dir: string;
let chasquidDir: string;
let prefix: string;

function hostSetup(args: string[]): { code: number | null; output: string } {
  const result = spawnSync('sh', [setupScript, '--chasquid-dir', chasquidDir, '--prefix', prefix, ...args], { encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

const prepare = (...extra: string[]) => hostSetup(['--install-chasquid', '--hostname', 'mail.example.test', ...extra]);
const git = (...args: string[]) => execFileSync('git', ['-C', chasquidDir, ...args], { encoding: 'utf8' });
const conf = () => readFileSync(path.join(chasquidDir, 'chasquid.conf'), 'utf8');

/** chasquid's directory as a fresh install leaves it (the hostname commented out), with the files mailops keeps. */
const debianConf = '# Default hostname to use when saying hello.\n#hostname: "mx.example.com"\n\nmax_data_size_mb: 50\n';
function freshChasquid(chasquidConf = debianConf): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  const files: Record<string, string> = {
    'chasquid.conf': chasquidConf,
    'certs/mail.example.test/fullchain.pem': 'certificate\n',
    'certs/mail.example.test/privkey.pem': 'private key\n',
    'domains/example.test/users': 'password hashes\n',
    'domains/example.test/aliases': 'postmaster: me\n',
    'domains/example.test/dkim:sel1.pem': 'DKIM private key\n',
    'domains/example.test/dkim_selector': 'sel1\n',
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(chasquidDir, name)), { recursive: true });
    writeFileSync(path.join(chasquidDir, name), content);
  }
}

beforeEach(() => {
  dir ??= mkdtempSync(path.join(os.tmpdir(), 'mailops-install-chasquid-'));
  chasquidDir = path.join(dir, 'etc/chasquid');
  prefix = path.join(dir, 'prefix');
  freshChasquid();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('host-setup.sh --install-chasquid', () => {
  it('leaves an installed chasquid as it is, sets the default hostname, puts the directory in git without secrets', () => {
    const first = prepare();
    expect(first.code).toBe(0);
    expect(first.output).toMatch(/^chasquid is installed \(\S+\)$/m);
    expect(first.output).not.toContain('apt-get');
    // This machine's chasquid package decides whether the post-data hook's dkimpy is looked at (the lab installs it).
    const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'chasquid'], { encoding: 'utf8' });
    const beforeSigning = spawnSync('dpkg', ['--compare-versions', version, 'lt', '1.14~']).status === 0;
    expect(first.output.includes(`python3-dkim is installed (chasquid ${version} signs DKIM through its post-data hook)`)).toBe(
      beforeSigning
    );
    expect(first.output).toContain(`set hostname: "mail.example.test" in ${chasquidDir}/chasquid.conf`);
    expect(conf()).toContain('#hostname: "mx.example.com"\n');
    expect(conf()).toMatch(/^hostname: "mail\.example\.test"$/m);

    expect(git('log', '--format=%s')).toBe('mailops host-setup\n');
    expect(git('ls-files').split('\n').filter(Boolean).sort()).toEqual([
      'certs/mail.example.test/fullchain.pem',
      'chasquid.conf',
      'domains/example.test/aliases',
      'domains/example.test/dkim_selector',
    ]);
    expect(git('status', '--porcelain')).toBe('');
    // Kept out of history, not deleted.
    expect(readFileSync(path.join(chasquidDir, 'certs/mail.example.test/privkey.pem'), 'utf8')).toBe('private key\n');
    expect(readFileSync(path.join(chasquidDir, 'domains/example.test/users'), 'utf8')).toBe('password hashes\n');
  });

  it('changes nothing the second time, and says so', () => {
    expect(prepare().code).toBe(0);
    const before = treeFingerprint(dir);
    const again = prepare();
    expect(again.code).toBe(0);
    expect(again.output).toContain("chasquid.conf's hostname is mail.example.test already");
    expect(again.output).toContain(`${chasquidDir} is in git already`);
    expect(again.output).toContain('nothing to change: chasquid is prepared');
    expect(treeFingerprint(dir)).toEqual(before);
  });

  it('--dry-run lists each step and changes nothing', () => {
    const before = treeFingerprint(dir);
    const dry = prepare('--dry-run');
    expect(dry.code).toBe(0);
    for (const step of [
      `would: set hostname: "mail.example.test" in ${chasquidDir}/chasquid.conf`,
      `would: install ${prefix}/mailops-host`,
      `would: git init ${chasquidDir}`,
      `would: commit ${chasquidDir} as "mailops host-setup"`,
    ]) {
      expect(dry.output).toContain(step);
    }
    expect(dry.output).toMatch(/^firewall: /m);
    expect(treeFingerprint(dir)).toEqual(before);
  });

  it('keeps the hostname an operator set, and says so', () => {
    const operators = 'hostname: "mx.operator.test"  # ours\n';
    freshChasquid(operators);
    const kept = prepare();
    expect(kept.code).toBe(0);
    expect(kept.output).toContain(
      "keeping chasquid.conf's hostname mx.operator.test, which someone set (not --hostname mail.example.test)"
    );
    expect(conf()).toBe(operators);
  });

  it('stops at a hostname line it cannot read, changing nothing', () => {
    freshChasquid('hostname: mail.example.test\n');
    const before = treeFingerprint(dir);
    const refused = prepare();
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`cannot read hostname in ${chasquidDir}/chasquid.conf (hostname: mail.example.test); fix it\n`);
    expect(treeFingerprint(dir)).toEqual(before);
  });

  it('sets the hostname when chasquid.conf has no hostname line at all', () => {
    freshChasquid('max_data_size_mb: 50\n');
    const prepared = prepare();
    expect(prepared.code).toBe(0);
    expect(conf()).toMatch(/^max_data_size_mb: 50\n(.*\n)*hostname: "mail\.example\.test"\n$/);
  });

  it('keeps an existing repository and commits the hostname it set there (secrets leave it)', () => {
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.name=operator', '-c', 'user.email=operator@example.test', 'commit', '-qm', 'by hand');
    const prepared = prepare();
    expect(prepared.code).toBe(0);
    expect(prepared.output).toContain(`${chasquidDir} is in git already`);
    // The hostname's commit goes through mailops-host, which first stops tracking the secrets committed by hand.
    expect(git('log', '--format=%s')).toBe(
      'mailops host-setup: hostname\n' +
        'mailops: keep private keys and password hashes out of git (the files stay; their backups are in .mailops-backup/)\n' +
        'by hand\n'
    );
    expect(git('ls-files')).not.toMatch(/privkey|users|dkim:/);
    expect(git('show', '--format=', '--name-only', 'HEAD')).toBe('chasquid.conf\n');
    expect(git('status', '--porcelain', '--', 'chasquid.conf')).toBe('');
  });

  it('reports whether an active firewall lets in ports 25, 465 and 587, and opens nothing', () => {
    const prepared = prepare();
    expect(prepared.output).toMatch(/^firewall: .*(25|no active firewall)/m);
    // This machine's firewall is the operator's business, not the script's: its rules are the same afterwards.
    const ruleset = () => execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
    const before = ruleset();
    prepare();
    expect(ruleset()).toBe(before);
  });

  describe("reads an nftables firewall (in a network namespace of its own: this machine's rules are untouched)", () => {
    const withRules = (rules: string) => {
      const rulesFile = path.join(dir, 'rules.nft');
      writeFileSync(rulesFile, rules);
      const args = ['--chasquid-dir', chasquidDir, '--prefix', prefix, '--install-chasquid', '--dry-run'];
      const result = spawnSync(
        'unshare',
        ['-n', 'sh', '-c', 'nft -f "$1" && shift && exec sh "$@"', 'sh', rulesFile, setupScript, ...args],
        {
          encoding: 'utf8',
        }
      );
      expect(result.stderr).toBe('');
      return result.stdout.split('\n').filter((line) => line.startsWith('firewall: '));
    };
    const dropping = (accept: string) =>
      `table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n${accept}  }\n}\n`;

    it('names the SMTP ports a dropping input chain does not accept', () => {
      expect(withRules(dropping('    tcp dport { 22, 25, 587 } accept\n'))).toEqual([
        'firewall: nftables drops input by default and has no accept rule host-setup.sh recognises for port(s) 465: check nft list ruleset, and add one (tcp dport { 25, 465, 587 } accept)',
      ]);
    });

    it('says when all three are accepted', () => {
      expect(withRules(dropping('    tcp dport 25 accept\n    tcp dport { 465, 587 } counter accept\n'))).toEqual([
        'firewall: nftables drops input by default and accepts ports 25 465 587',
      ]);
    });

    it('says when no input chain drops by default', () => {
      expect(withRules('table inet filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n  }\n}\n')).toEqual([
        'firewall: nftables has rules but no input chain that drops by default; check ports 25, 465 and 587 in: nft list ruleset',
      ]);
    });
  });

  it('refuses a --hostname that is no host name, and --hostname without --install-chasquid, changing nothing', () => {
    const before = treeFingerprint(dir);
    for (const [args, said] of [
      [['--install-chasquid', '--hostname', 'mail.example.test"\nhostname: "x'], '--hostname must be a host name'],
      [['--install-chasquid', '--hostname', '-x'], '--hostname must be a host name'],
      [['--hostname', 'mail.example.test'], '--hostname goes with --install-chasquid'],
      [['--install-chasquid', '--remove'], '--install-chasquid and --remove do not go together'],
    ] as const) {
      const refused = hostSetup([...args]);
      expect({ args, code: refused.code, said: refused.output.includes(said) }).toEqual({ args, code: 1, said: true });
    }
    expect(treeFingerprint(dir)).toEqual(before);
  });

  it("--dry-run with a key, before chasquid's directory exists, says the user comes next and changes nothing", () => {
    rmSync(chasquidDir, { recursive: true });
    const user = `mailops-i${randomBytes(3).toString('hex')}`;
    const keyFile = path.join(dir, 'id_dry');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mailops', '-f', keyFile]);
    const before = treeFingerprint(dir);
    const dry = prepare('--user', user, '--key-file', `${keyFile}.pub`, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.output).toContain(`would: set hostname: "mail.example.test" in ${chasquidDir}/chasquid.conf`);
    expect(dry.output).toContain(`would then set up the user ${user}`);
    expect(dry.output).toMatch(/^firewall: /m);
    expect(spawnSync('getent', ['passwd', user]).status).toBe(2);
    expect(treeFingerprint(dir)).toEqual(before);
  });

  it('with a key, also sets up the restricted user (and a second run changes nothing)', () => {
    const user = `mailops-i${randomBytes(3).toString('hex')}`;
    const keyFile = path.join(dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mailops', '-f', keyFile]);
    const withUser = (...extra: string[]) =>
      prepare('--user', user, '--key-file', `${keyFile}.pub`, '--restart', 'true', '--data-dir', dir, ...extra);
    try {
      const made = withUser();
      expect(made.code).toBe(0);
      expect(made.output).toContain(`create the system user ${user}`);
      expect(made.output).toContain(`commit ${chasquidDir} as "mailops host-setup"`);
      expect(made.output).toMatch(/^firewall: /m);
      expect(git('log', '--format=%s')).toBe('mailops host-setup\n');
      const before = treeFingerprint(dir);
      const again = withUser();
      expect(again.output).toContain(`nothing to change: ${user} is set up`);
      expect(treeFingerprint(dir)).toEqual(before);
    } finally {
      // The test's own account and files, removed directly, never through the script under test.
      if (spawnSync('getent', ['passwd', user]).status === 0) spawnSync('userdel', ['--remove', user]);
      for (const file of [
        `/etc/mailops-host/${user}.conf`,
        `/etc/mailops-host/${user}.account`,
        `/etc/sudoers.d/mailops-host-${user.replaceAll('-', '_')}`,
      ]) {
        if (existsSync(file)) rmSync(file);
      }
    }
  });
});
