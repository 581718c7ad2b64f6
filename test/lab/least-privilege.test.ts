// deploy/host-setup.sh in the lab: a restricted user that runs every mailops operation through the lab's sshd and
// nothing else, on both chasquid builds.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config.ts';
import { mailHostFromConfig, type MailHost } from '../../src/host/mail-host.ts';
import { createLogger, Redactor } from '../../src/log.ts';
import { operationContext } from '../../src/ops/context.ts';
import { sendProbe } from '../../src/probe/probe.ts';
import { createRuntime } from '../../src/runtime.ts';
import { runCli, type CliRun } from '../cli.ts';
import { googleZipReport } from '../reports/fixtures.ts';
import { deliverOnceAccepted, deliverRawOnceAccepted, waitForAuthentication, waitForDelivery } from '../smtp.ts';
import { waitFor } from '../wait.ts';
import { repoRoot, sshConnection, startLab, type Lab } from './lab.ts';
import { treeFingerprint } from './tree.ts';

const setupScript = path.join(repoRoot, 'deploy/host-setup.sh');
const logger = createLogger({ level: 'silent', redactor: new Redactor() });

function hostSetup(args: string[]): { code: number | null; output: string } {
  const result = spawnSync('sh', [setupScript, ...args], { encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** What host-setup.sh owns for a user: installed files, settings, sudo rule, key, account. */
function installedState(user: string, prefix: string): string[] {
  const files = [
    `${prefix}/mailops-host`,
    `${prefix}/mailops-forced-command`,
    `/etc/mailops-host/${user}.conf`,
    `/etc/sudoers.d/mailops-host-${user.replaceAll('-', '_')}`,
    `/var/lib/${user}/.ssh/authorized_keys`,
  ];
  return [
    ...files.map((file) => `${file} ${statSync(file).mode.toString(8)} ${statSync(file).uid} ${readFileSync(file, 'utf8')}`),
    execFileSync('getent', ['passwd', user], { encoding: 'utf8' }),
    execFileSync('getent', ['shadow', user], { encoding: 'utf8' }).split(':').slice(0, 2).join(':'),
  ];
}

describe.each(['1.11', '1.15'] as const)('the restricted host user on chasquid %s', (build) => {
  let lab: Lab;
  const user = `mailops-t${randomBytes(3).toString('hex')}`;
  let restricted: Record<string, string>;
  const hosts: MailHost[] = [];
  const mailops = (args: string[], options: { stdin?: string } = {}): Promise<CliRun> =>
    runCli([...args, '--env-file', lab.envFile], { ...options, env: restricted });
  const restrictedHost = () => {
    const host = mailHostFromConfig(parseConfig({ ...lab.env, ...restricted }), logger);
    hosts.push(host);
    return host;
  };

  // The lab's own copy of the installed programs, so that labs (and checkouts) on one machine never share one.
  const setupArgs = () => [
    '--user',
    user,
    '--key-file',
    `${lab.env.SSH_KEY_FILE}.pub`,
    '--chasquid-dir',
    lab.chasquidDir,
    '--restart',
    lab.env.CHASQUID_RESTART ?? '',
    '--path',
    `${path.join(lab.dir, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`,
    '--prefix',
    path.join(lab.dir, 'mailops-host'),
  ];

  beforeAll(async () => {
    lab = await startLab({ chasquid: build, acme: true });
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', lab.chasquidDir, '-c', 'user.name=seed', '-c', 'user.email=seed@example.test', ...args]);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'seed');
    const setup = hostSetup(setupArgs());
    expect(setup.output).toContain(`create the system user ${user}`);
    expect(setup.code).toBe(0);
    restricted = { MAIL_HOST: `ssh://${user}@127.0.0.1:${lab.ports.ssh}` };
  });

  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.close()));
    hostSetup(['--user', user, '--remove']);
    await lab?.stop();
  });

  it('prints the host key fingerprint and the settings for mailops', () => {
    const again = hostSetup([...setupArgs(), '--dry-run']);
    expect(again.output).toContain('SHA256:');
    expect(again.output).toContain(`MAIL_HOST=ssh://${user}@`);
  });

  it('runs the sender, alias and status operations as that user', { timeout: 120_000 }, async () => {
    const added = await mailops(['user-add', 'alice@example.test', '--json']);
    expect(added.stderr).toBe('');
    const password = JSON.parse(added.stdout).password as string;
    await waitForAuthentication(lab, 'alice@example.test', password, true);
    expect((await mailops(['alias-set', 'sales@example.test', 'alice'])).code).toBe(0);
    expect(JSON.parse((await mailops(['aliases', '--json'])).stdout).aliases).toEqual([
      { address: 'sales@example.test', targets: ['alice@example.test'] },
    ]);
    const status = JSON.parse((await mailops(['status', '--json'])).stdout);
    expect(status.service.running).toBe(true);
    expect(status.domains).toEqual(['example.test']);
    await deliverOnceAccepted(lab, 'someone@sender.invalid', 'sales@example.test', `restricted-${build}`);
    await waitForDelivery(lab, 'alice@example.test', `restricted-${build}`);
    expect((await mailops(['user-remove', 'alice@example.test', '--yes'])).code).toBe(2);
    expect((await mailops(['alias-remove', 'sales@example.test', '--yes'])).code).toBe(0);
    expect((await mailops(['user-remove', 'alice@example.test', '--yes'])).code).toBe(0);
    const subjects = execFileSync('git', ['-C', lab.chasquidDir, 'log', '--format=%s'], { encoding: 'utf8' });
    expect(subjects).toContain('mailops user-remove alice@example.test');
  });

  it("sets up and sends a probe as that user (its inbox lives in chasquid's data directory)", async () => {
    const { config, secrets } = loadConfig({ envFile: lab.envFile, cwd: lab.dir, env: restricted });
    const runtime = createRuntime({ config, secrets, logLevel: 'silent' });
    try {
      const captured = await sendProbe(operationContext(runtime, 'test'), 'example.test');
      expect(captured.raw.toString('utf8')).toContain(`Subject: mailops probe ${captured.nonce}`);
    } finally {
      await runtime.close();
    }
  });

  it('receives DMARC reports and reads the mail log as that user', async () => {
    const first = await mailops(['run-job', 'reports', '--json']);
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toMatchObject({ reportAddressCreated: ['example.test'], mailLog: { source: 'file' } });
    const to = 'mailops-reports@example.test';
    await deliverRawOnceAccepted(
      lab,
      'noreply-dmarc-support@google.com',
      to,
      googleZipReport({ to, domain: 'example.test', reportId: `restricted-${build}` })
    );
    const spool = path.join(lab.dir, 'var/lib/chasquid/mailops-reports');
    await waitFor('chasquid to spool the report', () => readdirSync(spool).some((name) => name.endsWith('.eml')), { timeoutMs: 15_000 });
    const second = await mailops(['run-job', 'reports', '--json']);
    expect(second.stderr).toBe('');
    expect(JSON.parse(second.stdout)).toMatchObject({ stored: { dmarc: 1, tlsrpt: 0 }, setAside: [] });
    expect(readdirSync(spool).filter((name) => name.endsWith('.eml'))).toEqual([]);
  });

  it('rotates the DKIM key and renews the certificate as that user', async () => {
    const rotated = await mailops(['dkim-rotate', 'example.test', '--yes', '--json']);
    expect(rotated.stderr).toBe('');
    expect(JSON.parse(rotated.stdout)).toMatchObject({ domain: 'example.test', published: true, active: true, verified: true });
    const renewed = await mailops(['cert-renew', '--force', '--json']);
    expect(renewed.stderr).toBe('');
    expect(JSON.parse(renewed.stdout)).toMatchObject({
      renewed: true,
      name: lab.hostname,
      served: [lab.ports.smtp, lab.ports.submission, lab.ports.submissionTls],
    });
    const status = JSON.parse((await mailops(['cert-status', '--json'])).stdout);
    expect(status.certificates[0].issuer).toMatch(/Pebble/i);
    const subjects = execFileSync('git', ['-C', lab.chasquidDir, 'log', '--format=%s'], { encoding: 'utf8' });
    expect(subjects).toContain('mailops dkim-rotate example.test');
    expect(subjects).toContain(`mailops cert-renew ${lab.hostname}`);
    // The seed commit held the lab's private keys; they are untracked now, and stay on disk.
    const tracked = execFileSync('git', ['-C', lab.chasquidDir, 'ls-files'], { encoding: 'utf8' }).split('\n');
    expect(tracked.filter((file) => /privkey\.pem$|dkim:.*\.pem$|\/users$|^\.mailops-/.test(file))).toEqual([]);
    expect(tracked).toContain('chasquid.conf');
    expect(statSync(path.join(lab.chasquidDir, 'certs', lab.hostname, 'privkey.pem')).isFile()).toBe(true);
    expect(statSync(path.join(lab.chasquidDir, '.git')).mode & 0o777).toBe(0o700);
  });

  it(
    'runs every other command as that user: passwd, users, dkim-show, dkim-retire, check, dns-diff and each job',
    { timeout: 240_000 },
    async () => {
      const noRefusal = (run: CliRun) => {
        expect(run.stderr).not.toMatch(/refused|may only run mailops operations|lock was lost/);
        return run;
      };
      expect(noRefusal(await mailops(['user-add', 'bob@example.test', '--json'])).code).toBe(0);
      const usersFile = path.join(lab.chasquidDir, 'domains/example.test/users');
      const before = readFileSync(usersFile, 'utf8');
      // (Logging in is tested above; after the renewal the lab's SMTP client no longer trusts the pebble certificate.)
      expect(noRefusal(await mailops(['passwd', 'bob@example.test', '--json'])).code).toBe(0);
      expect(readFileSync(usersFile, 'utf8')).not.toBe(before);
      expect(JSON.parse(noRefusal(await mailops(['users', 'example.test', '--json'])).stdout).users).toContain('bob@example.test');
      const shown = JSON.parse(noRefusal(await mailops(['dkim-show', 'example.test', '--json'])).stdout);
      expect(shown.selectors.some((selector: { active: boolean; published: boolean }) => selector.active && selector.published)).toBe(true);
      expect(noRefusal(await mailops(['dkim-retire', 'example.test', '--json'])).code).toBe(0);
      const check = noRefusal(await mailops(['check', 'example.test', '--json']));
      expect(JSON.parse(check.stdout).checks.find((result: { id: string }) => result.id === 'e2e')).toMatchObject({ status: 'pass' });
      expect([0, 1]).toContain(noRefusal(await mailops(['dns-diff', 'example.test', '--json'])).code);
      for (const job of ['health', 'cert-watch', 'dns-drift', 'dkim-retire']) {
        const run = noRefusal(await mailops(['run-job', job, '--json']));
        expect({ job, ok: JSON.parse(run.stdout).ok ?? run.code === 0 }).toEqual({ job, ok: expect.anything() });
      }
      expect(noRefusal(await mailops(['user-remove', 'bob@example.test', '--yes'])).code).toBe(0);
    }
  );

  it('is found to be in restricted mode, answered by the installed mailops-host', async () => {
    const host = restrictedHost();
    expect(await host.verbs.mode()).toBe('restricted');
    const hello = await host.verbs.callOk('hello');
    expect(hello.stdout.toString()).toMatch(/^mailops-host [0-9]+ restricted$/m);
  });

  it('refuses a shell, ls /, cat /etc/shadow and anything that is not a mailops call', async () => {
    const host = restrictedHost();
    for (const argv of [
      ['ls', '/'],
      ['cat', '/etc/shadow'],
      ['sh', '-c', 'id'],
      ['mailops-v1', 'not base64!'],
      ['sudo', '-l'],
    ]) {
      const result = await sshConnection(host).exec(argv);
      expect({ argv, code: result.code }).toEqual({ argv, code: 64 });
      expect(result.stdout.toString()).toBe('');
      expect(result.stderr).toContain('may only run mailops operations');
    }
  });

  it('refuses to read or write outside the chasquid directory, and other restart commands', async () => {
    const host = restrictedHost();
    const before = readFileSync('/etc/passwd', 'utf8');
    for (const [verb, args] of [
      ['read', ['/etc/shadow']],
      ['list', ['/root']],
      ['write', ['/etc/passwd', '1', 'x', '', '644', '', '']],
      ['mkdir', ['/etc/mailops-evil', '755', '']],
      ['ownership', ['/etc/shadow', 'nobody', '']],
      ['remove', ['/etc/hostname', '', '']],
      ['restart', ['sh', '-c', 'id']],
      ['git', ['config', 'core.hooksPath', '/tmp']],
      ['nonsense', []],
    ] as const) {
      const result = await host.verbs.call(verb, [...args], { stdin: 'x' });
      expect({ verb, code: result.code, refused: result.stderr.includes('refused') }).toEqual({ verb, code: 64, refused: true });
    }
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(before);
  });

  it('refuses port forwarding', async () => {
    // ssh -W asks for a direct-tcpip channel, as -L does: the key's restrict option refuses it.
    const result = spawnSync(
      'ssh',
      [
        '-i',
        lab.env.SSH_KEY_FILE ?? '',
        '-o',
        `UserKnownHostsFile=${lab.env.SSH_KNOWN_HOSTS_FILE}`,
        '-o',
        'BatchMode=yes',
        '-o',
        'ExitOnForwardFailure=yes',
        '-p',
        String(lab.ports.ssh),
        '-N',
        '-W',
        `127.0.0.1:${lab.ports.smtp}`,
        `${user}@127.0.0.1`,
      ],
      { encoding: 'utf8', timeout: 10_000, input: '' }
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/administratively prohibited|forwarding/i);
  });

  it('changes nothing when run a second time', () => {
    const prefix = path.join(lab.dir, 'mailops-host');
    const before = installedState(user, prefix);
    const chasquidBefore = treeFingerprint(lab.chasquidDir);
    const again = hostSetup(setupArgs());
    expect(again.code).toBe(0);
    expect(again.output).toContain('nothing to change');
    expect(installedState(user, prefix)).toEqual(before);
    expect(treeFingerprint(lab.chasquidDir)).toEqual(chasquidBefore);
  });

  it('shows with --dry-run what it would do, and does none of it', () => {
    const other = `mailops-d${randomBytes(3).toString('hex')}`;
    const dry = hostSetup([
      '--user',
      other,
      '--key-file',
      `${lab.env.SSH_KEY_FILE}.pub`,
      '--chasquid-dir',
      lab.chasquidDir,
      '--prefix',
      path.join(lab.dir, 'unused'),
      '--dry-run',
    ]);
    expect(dry.code).toBe(0);
    expect(dry.output).toContain(`would: create the system user ${other}`);
    expect(spawnSync('getent', ['passwd', other]).status).not.toBe(0);
  });
});
