// Fault drills at named steps (issue 12): the SSH connection dropped at a chosen step of a host change, mailops
// SIGKILLed at a chosen step of cert-renew and dkim-rotate (with or without the host's own process), an SSH outage
// during a rollback, a failed verification. Each drill then asks the real system — the files on the host, Knot,
// chasquid over TLS and SMTP, git, the audit trail — whether what mailops reported is what happened, and whether the
// same command run again leaves a consistent, serving host.
//
// The steps are hit deterministically through fault points on the lab host (fault-points.ts): mailops-host stops at
// the program it runs for that step (flock before its lock, mv for each rename of an apply, stat for its answer)
// until the test has dropped the connection or killed what it kills. No line of mailops knows about them.

import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createPublisher, RecordPublishing } from '../../src/dns/publisher.ts';
import type { TxtRecord } from '../../src/dns/txt.ts';
import { operationContext, type OperationContext } from '../../src/ops/context.ts';
import type { SignedMessageProbe } from '../../src/ops/dkim-probe.ts';
import { dkimRetireJob } from '../../src/ops/dkim-retire.ts';
import { dkimRotate } from '../../src/ops/dkim-rotate.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { openDatabase } from '../../src/store/database.ts';
import { runCli, type CliRun } from '../cli.ts';
import { waitForAuthentication } from '../smtp.ts';
import { processGone, waitFor } from '../wait.ts';
import { armFault, reachedBy, startCli } from './fault-points.ts';
import { startLab, type ChasquidBuild, type Lab } from './lab.ts';
import { servedEverywhere } from './served-chain.ts';

const domain = 'example.test';
const day = 86_400_000;
/** A killed mailops keeps the host lock until its lease runs out (45 s): the next change waits that long. */
const afterAKill = 240_000;

interface Drill {
  lab: Lab;
  runtime: Runtime;
  git(...args: string[]): string;
  domainFile(name: string): string;
  context(actor: string, now?: Date): OperationContext;
  /** A function of its own (passed on as the ops' `publishing` option), not a method that needs `this`. */
  publishing: () => RecordPublishing;
  cli(args: string[], actor: string, env?: Record<string, string>): Promise<CliRun>;
}

async function drillLab(build: ChasquidBuild): Promise<Drill> {
  const lab = await startLab({ chasquid: build, domains: [domain], acme: true });
  const { config, secrets } = loadConfig({ envFile: lab.envFile, cwd: lab.dir, env: {} });
  const runtime = createRuntime({ config, secrets, logLevel: 'silent' });
  const git = (...args: string[]) => execFileSync('git', ['-C', lab.chasquidDir, ...args], { encoding: 'utf8' });
  git('init', '-q');
  git('-c', 'user.name=seed', '-c', 'user.email=seed@example.test', 'add', '-A');
  git('-c', 'user.name=seed', '-c', 'user.email=seed@example.test', 'commit', '-qm', 'seed');
  return {
    lab,
    runtime,
    git,
    domainFile: (name) => path.join(lab.chasquidDir, 'domains', domain, name),
    context: (actor, now) => ({ ...operationContext(runtime, actor), ...(now === undefined ? {} : { now: () => now }) }),
    publishing: () =>
      new RecordPublishing(
        createPublisher(runtime.config, runtime.logger, () => new Date(), {}),
        runtime.config,
        runtime.logger,
        10_000
      ),
    cli: (args, actor, env = {}) => runCli([...args, '--json', '--actor', actor, '--env-file', lab.envFile], { env }),
  };
}

/** What the CLI says when it commits the files of an interrupted change before its own. */
const committedFirst = 'mailops: warning: committed uncommitted changes found in CHASQUID_DIR before ours\n';

const json = (run: CliRun) => JSON.parse(run.stdout) as Record<string, any>;

/** The audit trail of one operation and target, oldest first. */
function audit(lab: Lab, operation: string, target: string): Array<{ actor: string; outcome: string; detail: string | null }> {
  const database = openDatabase(lab.env.STATE_DB ?? '');
  try {
    return database
      .prepare('SELECT actor, outcome, detail FROM audit WHERE operation = ? AND target = ? ORDER BY id')
      .all(operation, target) as Array<{ actor: string; outcome: string; detail: string | null }>;
  } finally {
    database.close();
  }
}

/** The journal (steps) of the newest operation of this actor. */
function journal(lab: Lab, actor: string): Array<Record<string, any>> {
  const database = openDatabase(lab.env.STATE_DB ?? '');
  try {
    const row = database.prepare('SELECT steps FROM operations WHERE actor = ? ORDER BY id DESC LIMIT 1').get(actor) as
      { steps: string } | undefined;
    return row === undefined ? [] : (JSON.parse(row.steps) as Array<Record<string, any>>);
  } finally {
    database.close();
  }
}

/** What CHASQUID_DIR holds (every file's content, owner and mode), without mailops's own backups, state and git. */
function tree(lab: Lab): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      const relative = path.relative(lab.chasquidDir, file);
      if (['.git', '.mailops-backup', '.mailops-state'].includes(relative)) continue;
      const stat = statSync(file);
      if (stat.isDirectory()) walk(file);
      else
        out[relative] =
          `${stat.uid}:${stat.gid} ${(stat.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
    }
  };
  walk(lab.chasquidDir);
  return out;
}

/** The records of the domain's zone at Knot, without the SOA (whose serial every update moves). */
async function zone(lab: Lab): Promise<string[]> {
  return (await lab.knotc('zone-read', domain))
    .split('\n')
    .filter((line) => line.trim() !== '' && !/ SOA /.test(line))
    .sort();
}

/** The DKIM record Knot serves for a selector ('' when none), its strings joined. */
async function dkimRecord(lab: Lab, selector: string): Promise<string> {
  const answer = await lab.knotc('zone-read', domain, `${selector}._domainkey.${domain}.`, 'TXT').catch(() => '');
  return (answer.match(/"[^"]*"/g) ?? []).map((part) => part.slice(1, -1)).join('');
}

/** The public key of a private key PEM, as a DKIM record's p= holds it. */
const publicKeyOf = (pem: string) => createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' }).toString('base64');

/** Whether the installed certificate's key is the installed private key. */
function pairMatches(lab: Lab): boolean {
  const dir = path.join(lab.chasquidDir, 'certs', lab.hostname);
  return new X509Certificate(readFileSync(path.join(dir, 'fullchain.pem'))).checkPrivateKey(
    createPrivateKey(readFileSync(path.join(dir, 'privkey.pem')))
  );
}

/** Restarts chasquid the way the host's service manager would (the lab's CHASQUID_RESTART); throws when it stays down. */
function restartChasquid(lab: Lab): void {
  const [command = '', ...args] = (lab.env.CHASQUID_RESTART ?? '').split(' ');
  execFileSync(command, args, { stdio: 'ignore' });
}

/** The `check` report's e2e result (a message through the host, its DKIM, SPF and DMARC verified as a receiver would). */
async function endToEnd(drill: Drill, actor: string): Promise<{ status: string; summary: string }> {
  const report = json(await drill.cli(['check', domain], actor));
  return (
    (report.checks as Array<{ id: string; status: string; summary: string }>).find((result) => result.id === 'e2e') ?? {
      status: 'missing',
      summary: '',
    }
  );
}

/** user-add reports the truth: it printed a password that logs in, or it failed and there is no such sender. */
async function expectTruthfulUserAdd(drill: Drill, run: CliRun, address: string): Promise<'added' | 'not added'> {
  const local = address.split('@')[0];
  const users = (() => {
    try {
      return readFileSync(drill.domainFile('users'), 'utf8');
    } catch {
      return '';
    }
  })();
  const isSender = users.includes(`key: "${local}"`);
  const body = json(run);
  if (run.code === 0) {
    expect(body.password).toMatch(/^\S{24}$/);
    expect(isSender, `${address}: reported added, but it is not in the users file`).toBe(true);
    await waitForAuthentication(drill.lab, address, body.password, true);
    return 'added';
  }
  expect(
    isSender,
    `${address}: reported "${body.error?.code}: ${body.error?.message}", but the sender exists (with a password nobody saw)`
  ).toBe(false);
  return 'not added';
}

describe('faults with chasquid 1.15', () => {
  let drill: Drill;
  let lab: Lab;

  beforeAll(async () => {
    drill = await drillLab('1.15');
    lab = drill.lab;
    // A first DKIM key, made at a chosen day 30 days ago so that today's selectors stay free for the drills.
    await dkimRotate(drill.context('drill-setup', new Date(Date.now() - 30 * day)), { domain, publishing: drill.publishing });
  }, 120_000);

  afterAll(async () => {
    await drill?.runtime.close();
    await lab?.stop();
  });

  describe('the connection drops after user-add sent its change', () => {
    const usersFile = () => drill.domainFile('users');

    it('after the host applied it, before the answer: reported done, and the printed password logs in', { timeout: 120_000 }, async () => {
      const address = `drop-after@${domain}`;
      // mailops-host's last step of an apply: the stat of what it wrote, printed as its answer.
      const point = armFault(lab, { program: 'stat', verb: 'apply', word: usersFile(), arguments: ['%u %g %a %F %s %U %G', usersFile()] });
      const cli = startCli(['user-add', address, '--json', '--actor', 'drill-6a', '--env-file', lab.envFile]);
      const reached = await point.reached();
      await lab.dropSshConnections();
      reached.release();
      const run = await cli.done;
      expect(await expectTruthfulUserAdd(drill, run, address)).toBe('added');
      expect(audit(lab, 'user-add', address).map((entry) => entry.outcome)).toEqual(['started', 'ok']);
    });

    it(
      "before the host took its lock, the host's call arriving late (after mailops checked and sent it again): reported truthfully",
      { timeout: 180_000 },
      async () => {
        const address = `drop-late@${domain}`;
        // The first call stops before mailops-host takes its state lock (a host slow to schedule it) …
        const first = armFault(lab, { program: 'flock', verb: 'apply', word: usersFile() });
        const cli = startCli(['user-add', address, '--json', '--actor', 'drill-6b', '--env-file', lab.envFile]);
        const late = await first.reached();
        // … the connection drops; mailops reconnects, asks what the file holds (unchanged) and sends the change again;
        const again = armFault(lab, { program: 'flock', verb: 'apply', word: usersFile() });
        await lab.dropSshConnections();
        const resent = await again.reached();
        // now the first call goes on and finishes, and only then the second one.
        late.release();
        await waitFor('the late call to finish', () => processGone(late.hostPid), { timeoutMs: 60_000 });
        resent.release();
        const run = await cli.done;
        await expectTruthfulUserAdd(drill, run, address);
        const entries = readFileSync(usersFile(), 'utf8').split(`key: "drop-late"`).length - 1;
        expect(entries).toBeLessThanOrEqual(1);
      }
    );

    it(
      'twice: the first call never ran, the second was applied and its answer lost: reported truthfully',
      { timeout: 180_000 },
      async () => {
        const address = `drop-twice@${domain}`;
        const first = armFault(lab, { program: 'flock', verb: 'apply', word: usersFile() });
        const cli = startCli(['user-add', address, '--json', '--actor', 'drill-6c', '--env-file', lab.envFile]);
        const lost = await first.reached();
        const answer = armFault(lab, {
          program: 'stat',
          verb: 'apply',
          word: usersFile(),
          arguments: ['%u %g %a %F %s %U %G', usersFile()],
        });
        // The first call dies with its connection; the second is applied, and its connection drops before the answer.
        lost.killHost();
        await lab.dropSshConnections();
        const applied = await answer.reached();
        await lab.dropSshConnections();
        applied.release();
        const run = await cli.done;
        await expectTruthfulUserAdd(drill, run, address);
      }
    );
  });

  describe('dkim-rotate fails after activation', () => {
    const unsigned: SignedMessageProbe = async () => Buffer.from(`From: <x@${domain}>\r\nSubject: unsigned\r\n\r\nno signature\r\n`);

    it('at the verify step: audited as rolled back, and the host ends as it started', { timeout: 180_000 }, async () => {
      const before = {
        files: tree(lab),
        zone: await zone(lab),
        head: drill.git('rev-parse', 'HEAD'),
        status: drill.git('status', '--porcelain'),
      };
      const error = await dkimRotate(drill.context('drill-5'), { domain, publishing: drill.publishing, probe: unsigned }).then(
        () => undefined,
        (caught: unknown) => caught
      );
      expect(error).toMatchObject({ code: 'dkim-signature-unverified' });
      expect((error as Error).message).toContain('stopped at step "verify a freshly signed message"');
      expect(tree(lab)).toEqual(before.files);
      expect(await zone(lab)).toEqual(before.zone);
      expect(drill.git('rev-parse', 'HEAD')).toBe(before.head);
      expect(drill.git('status', '--porcelain')).toBe(before.status);
      expect(
        audit(lab, 'dkim-rotate', domain)
          .filter((entry) => entry.actor === 'drill-5')
          .map((entry) => entry.outcome)
      ).toEqual(['started', 'rolled back']);
      expect((await endToEnd(drill, 'drill-5-check')).status).toBe('pass');
    });

    it(
      'with an SSH outage during the rollback: the DNS record stays while the key could not be removed; a retry and the retirement clean up',
      { timeout: 600_000 },
      async () => {
        const sshd = Number(readFileSync(path.join(lab.dir, 'ssh/sshd.pid'), 'utf8').trim());
        const keysBefore = readdirSync(path.dirname(drill.domainFile('users'))).filter((name) => name.startsWith('dkim:'));
        // The probe (the verify step) finds no signature — and from then on the host cannot be reached: sshd is frozen
        // (new connections hang in the handshake) and the open ones are cut.
        const outage: SignedMessageProbe = async (probed) => {
          process.kill(sshd, 'SIGSTOP');
          await lab.dropSshConnections();
          return unsigned(probed);
        };
        let error: unknown;
        try {
          error = await dkimRotate(drill.context('drill-4'), { domain, publishing: drill.publishing, probe: outage }).then(
            () => undefined,
            (caught: unknown) => caught
          );
        } finally {
          process.kill(sshd, 'SIGCONT');
        }
        const message = (error as Error).message;
        expect(message).toContain('stopped at step "verify a freshly signed message"');
        const selector = /s=([0-9a-z]+)/.exec(message)?.[1] ?? '';
        const keyFile = `dkim:${selector}.pem`;
        // Undo stopped at its first failure: the key file (which signs since the restart) is still there, so its DNS
        // record was kept, and the error says so.
        expect(readdirSync(path.dirname(drill.domainFile('users')))).toContain(keyFile);
        expect(await dkimRecord(lab, selector)).toContain(`p=${publicKeyOf(readFileSync(drill.domainFile(keyFile), 'utf8'))}`);
        expect(message).toMatch(/NOT DONE: .*dkim:[0-9a-z]+\.pem should have been removed/);
        expect(message).toMatch(/left as it is: the new DNS record/);
        // The audit must not say "rolled back": the host was not put back.
        expect(
          audit(lab, 'dkim-rotate', domain)
            .filter((entry) => entry.actor === 'drill-4')
            .map((entry) => entry.outcome)
        ).toEqual(['started', 'failed']);

        // A retry (once the host is back and the lost run's lock has run out) rotates, and schedules the left-over key
        // for retirement with the others; mail signs and verifies meanwhile.
        const retry = await drill.cli(['dkim-rotate', domain, '--yes'], 'drill-4-retry');
        expect(retry.stderr).toBe('');
        expect(retry.code).toBe(0);
        const rotated = json(retry);
        expect(rotated.retiring.map((old: { selector: string }) => old.selector)).toContain(selector);
        expect((await endToEnd(drill, 'drill-4-check')).status).toBe('pass');
        // Once the grace period is over, the retirement removes the left-over key and its record.
        const retired = await dkimRetireJob(drill.context('drill-4-retire', new Date(Date.now() + 8 * day)), {
          publishing: drill.publishing,
        });
        expect(retired.retired).toContainEqual({ domain, selector });
        expect(readdirSync(path.dirname(drill.domainFile('users')))).not.toContain(keyFile);
        expect(await dkimRecord(lab, selector)).toBe('');
        expect(readdirSync(path.dirname(drill.domainFile('users'))).filter((name) => name.startsWith('dkim:'))).toEqual([
          `dkim:${rotated.selector}.pem`,
        ]);
        expect(keysBefore).not.toContain(`dkim:${rotated.selector}.pem`);
        expect((await endToEnd(drill, 'drill-4-check')).status).toBe('pass');
      }
    );
  });

  describe('mailops killed at chosen steps', () => {
    it(
      'cert-renew killed between the certificate files (the host goes on; then the host killed too, as by a power cut); run again',
      { timeout: 900_000 },
      async () => {
        const certDir = path.join(lab.chasquidDir, 'certs', lab.hostname);
        const killAtSecondFile = async (actor: string, alsoTheHost: boolean) => {
          // The apply's renames run in order: the previous pair's copy, then privkey.pem, then fullchain.pem.
          const point = armFault(lab, { program: 'mv', verb: 'apply', arguments: [path.join(certDir, 'fullchain.pem')] });
          const cli = startCli(['cert-renew', '--force', '--json', '--actor', actor, '--env-file', lab.envFile]);
          const between = await reachedBy(point, cli, afterAKill);
          // This is the moment the drill is about: privkey.pem is new, fullchain.pem is not.
          expect(pairMatches(lab)).toBe(false);
          cli.kill();
          expect((await cli.done).signal).toBe('SIGKILL');
          if (alsoTheHost) between.killHost();
          else between.release();
        };

        await killAtSecondFile('drill-3-cert-killed', false);
        // mailops-host finishes the switch on its own once the change was under way.
        await waitFor('the certificate pair to match', () => pairMatches(lab), { timeoutMs: 10_000 });
        restartChasquid(lab);
        const installed = () => new X509Certificate(readFileSync(path.join(certDir, 'fullchain.pem'))).fingerprint256;
        for (const chain of await servedEverywhere(lab)) expect(chain[0]?.fingerprint256).toBe(installed());

        await killAtSecondFile('drill-3-cert-power-cut', true);
        // Nothing ran after the cut: the files are half switched until mailops-host runs next, which finishes the switch
        // from its journal before anything else — any mailops command does (here the read-only cert-status).
        expect(pairMatches(lab)).toBe(false);
        const status = await drill.cli(['cert-status'], 'drill-3-cert-status');
        expect(status.code).toBe(0);
        expect(pairMatches(lab)).toBe(true);
        restartChasquid(lab);
        for (const chain of await servedEverywhere(lab)) expect(chain[0]?.fingerprint256).toBe(installed());

        // The same command run again: a new certificate, installed, served everywhere.
        const again = await drill.cli(['cert-renew', '--force'], 'drill-3-cert-again');
        expect(again.stderr).toBe(committedFirst);
        expect(again.code).toBe(0);
        expect(pairMatches(lab)).toBe(true);
        for (const chain of await servedEverywhere(lab)) expect(chain[0]?.fingerprint256).toBe(installed());

        // The audit names each run and how it ended; git names each change and who made it.
        expect(audit(lab, 'cert-renew', lab.hostname).map((entry) => `${entry.actor} ${entry.outcome}`)).toEqual([
          'drill-3-cert-killed started',
          'drill-3-cert-killed interrupted',
          'drill-3-cert-power-cut started',
          'drill-3-cert-power-cut interrupted',
          'drill-3-cert-again started',
          'drill-3-cert-again ok',
        ]);
        const subjects = drill.git('log', '--format=%s', '-n', '3').trim().split('\n');
        expect(subjects).toEqual([
          `mailops cert-renew ${lab.hostname} (by drill-3-cert-again)`,
          `Changes of interrupted mailops cert-renew ${lab.hostname} (by drill-3-cert-power-cut), committed by mailops cert-renew ${lab.hostname} (by drill-3-cert-again)`,
          `Changes of interrupted mailops cert-renew ${lab.hostname} (by drill-3-cert-killed), committed by mailops cert-renew ${lab.hostname} (by drill-3-cert-power-cut)`,
        ]);
        expect(drill.git('show', '--name-only', '--format=', 'HEAD~1').trim()).toBe(`certs/${lab.hostname}/fullchain.pem`);
      }
    );

    it(
      'dkim-rotate killed once its record was published, then once its key reached the host; run again: signing and verifying',
      { timeout: 900_000 },
      async () => {
        // 1. Killed while it waits for the record it asked a person to publish (the manual provider's waiting point);
        //    the person publishes it anyway.
        const waiting = startCli(
          ['dkim-rotate', domain, '--yes', '--wait', '--json', '--actor', 'drill-3-dkim-published', '--env-file', lab.envFile],
          { DNS_PROVIDER: 'manual' }
        );
        await waitFor(
          'the manual provider to wait for the record',
          () => waiting.stderr().includes('Waiting until every authoritative name server shows it'),
          { timeoutMs: afterAKill }
        );
        waiting.kill();
        await waiting.done;
        const published = journal(lab, 'drill-3-dkim-published').find((step) => step.step === 'publish') as {
          selector: string;
          record: TxtRecord;
        };
        expect(published.selector).toMatch(/^[0-9]{8}[a-z]?$/);
        await drill.publishing().publish(published.record);
        expect(await dkimRecord(lab, published.selector)).not.toBe('');

        // 2. Killed once its key file is on the host, before chasquid restarted to load it.
        const keyPoint = armFault(lab, {
          program: 'mv',
          verb: 'apply',
          arguments: [path.join(lab.chasquidDir, 'domains', domain, 'dkim:*.pem')],
        });
        const activating = startCli([
          'dkim-rotate',
          domain,
          '--yes',
          '--json',
          '--actor',
          'drill-3-dkim-activated',
          '--env-file',
          lab.envFile,
        ]);
        const renaming = await reachedBy(keyPoint, activating, afterAKill);
        activating.kill();
        await activating.done;
        renaming.release();
        // That run had first undone the rotation interrupted at step 1: its key never reached the host, so its record
        // went (the name may serve the new run's key now: a selector whose record is gone is free again).
        expect(await dkimRecord(lab, published.selector)).not.toBe(published.record.value);
        expect(journal(lab, 'drill-3-dkim-published').at(-1)).toMatchObject({ step: 'recovered', how: expect.stringMatching(/^undone/) });
        const activated = journal(lab, 'drill-3-dkim-activated').find((step) => step.step === 'activate') as { selector: string };
        await waitFor(
          'the key file on the host',
          () => readdirSync(path.dirname(drill.domainFile('users'))).includes(`dkim:${activated.selector}.pem`),
          { timeoutMs: 10_000 }
        );

        // 3. The same command again: it finishes the interrupted rotation and makes its own; mail signs and verifies.
        const again = await drill.cli(['dkim-rotate', domain, '--yes'], 'drill-3-dkim-again');
        expect(again.stderr).toBe('');
        expect(again.code).toBe(0);
        const body = json(again);
        expect(body.recovered).toEqual([
          expect.stringMatching(
            new RegExp(
              `^An interrupted dkim-rotate of ${domain} \\(started \\S+ by drill-3-dkim-activated\\) was finished: the key ${activated.selector} was published and on the host; it signs now`
            )
          ),
        ]);
        expect(body.retiring.map((old: { selector: string }) => old.selector)).toContain(activated.selector);
        // Every key on the host is published with its own public key, and a message through the host verifies.
        for (const name of readdirSync(path.dirname(drill.domainFile('users'))).filter((file) => file.startsWith('dkim:'))) {
          const selector = name.slice('dkim:'.length, -'.pem'.length);
          expect(await dkimRecord(lab, selector), selector).toContain(`p=${publicKeyOf(readFileSync(drill.domainFile(name), 'utf8'))}`);
        }
        expect(await endToEnd(drill, 'drill-3-dkim-check')).toMatchObject({
          status: 'pass',
          summary: expect.stringContaining(`s=${body.selector}`),
        });

        // The audit shows each interrupted run (and which run found it), then the new run; git names what happened.
        expect(
          audit(lab, 'dkim-rotate', domain)
            .filter((entry) => entry.actor.startsWith('drill-3-dkim'))
            .map((entry) => `${entry.actor} ${entry.outcome}`)
        ).toEqual([
          'drill-3-dkim-published started',
          'drill-3-dkim-published interrupted',
          'drill-3-dkim-activated started',
          'drill-3-dkim-activated interrupted',
          'drill-3-dkim-again started',
          'drill-3-dkim-again ok',
        ]);
        expect(
          audit(lab, 'dkim-rotate', domain).find((entry) => entry.actor === 'drill-3-dkim-activated' && entry.outcome === 'interrupted')
            ?.detail
        ).toMatch(/^started \S+ by drill-3-dkim-activated; found by dkim-rotate example\.test \(by drill-3-dkim-again\)$/);
        const commit = drill.git('log', '-n', '1', '--format=%B');
        expect(commit).toContain(`mailops dkim-rotate ${domain} (by drill-3-dkim-again)`);
        expect(commit).toContain(`interrupted dkim-rotate of ${domain}`);
        expect(commit).toContain('by drill-3-dkim-activated');
      }
    );
  });
});

describe('faults with chasquid 1.11 (a DKIM key and its selector are two files)', () => {
  let drill: Drill;
  let lab: Lab;

  beforeAll(async () => {
    drill = await drillLab('1.11');
    lab = drill.lab;
    await dkimRotate(drill.context('drill-setup', new Date(Date.now() - 30 * day)), { domain, publishing: drill.publishing });
  }, 120_000);

  afterAll(async () => {
    await drill?.runtime.close();
    await lab?.stop();
  });

  const keyFile = () => path.join(lab.chasquidDir, 'certs', domain, 'dkim_privkey.pem');
  const selectorNow = () => readFileSync(drill.domainFile('dkim_selector'), 'utf8').trim();
  const keyMatchesSelector = async () =>
    (await dkimRecord(lab, selectorNow())).includes(`p=${publicKeyOf(readFileSync(keyFile(), 'utf8'))}`);

  it('a failure at the verify step is audited as rolled back, and the host ends as it started', { timeout: 180_000 }, async () => {
    const before = { files: tree(lab), zone: await zone(lab), head: drill.git('rev-parse', 'HEAD') };
    const unsigned: SignedMessageProbe = async () => Buffer.from(`From: <x@${domain}>\r\nSubject: unsigned\r\n\r\nno signature\r\n`);
    const error = await dkimRotate(drill.context('drill-5'), { domain, publishing: drill.publishing, probe: unsigned }).then(
      () => undefined,
      (caught: unknown) => caught
    );
    expect(error).toMatchObject({ code: 'dkim-signature-unverified' });
    expect(tree(lab)).toEqual(before.files);
    expect(await zone(lab)).toEqual(before.zone);
    expect(drill.git('rev-parse', 'HEAD')).toBe(before.head);
    expect(
      audit(lab, 'dkim-rotate', domain)
        .filter((entry) => entry.actor === 'drill-5')
        .map((entry) => entry.outcome)
    ).toEqual(['started', 'rolled back']);
    expect(await keyMatchesSelector()).toBe(true);
  });

  it(
    'dkim-rotate killed, host and all, between the key and its selector: the next command finishes the switch; run again',
    { timeout: 900_000 },
    async () => {
      const oldSelector = selectorNow();
      const point = armFault(lab, { program: 'mv', verb: 'apply', arguments: [drill.domainFile('dkim_selector')] });
      const cli = startCli(['dkim-rotate', domain, '--yes', '--json', '--actor', 'drill-3-dkim-cut', '--env-file', lab.envFile]);
      const between = await reachedBy(point, cli, afterAKill);
      // The crash window: the new key is in place, the selector still names the old one.
      expect(selectorNow()).toBe(oldSelector);
      expect(await keyMatchesSelector()).toBe(false);
      cli.kill();
      await cli.done;
      between.killHost();
      // The next mailops command (here a read-only one) finishes the switch from the host's journal first.
      const shown = await drill.cli(['dkim-show', domain], 'drill-3-dkim-show');
      expect(shown.code).toBe(0);
      const newSelector = (journal(lab, 'drill-3-dkim-cut').find((step) => step.step === 'activate') as { selector: string }).selector;
      expect(selectorNow()).toBe(newSelector);
      expect(await keyMatchesSelector()).toBe(true);

      const again = await drill.cli(['dkim-rotate', domain, '--yes'], 'drill-3-dkim-again');
      expect(again.stderr).toBe(committedFirst);
      expect(again.code).toBe(0);
      const body = json(again);
      expect(body.recovered).toEqual([
        expect.stringContaining(`by drill-3-dkim-cut) was finished: the key ${newSelector} was published and on the host`),
      ]);
      expect(selectorNow()).toBe(body.selector);
      expect(await keyMatchesSelector()).toBe(true);
      expect(await endToEnd(drill, 'drill-3-dkim-check')).toMatchObject({
        status: 'pass',
        summary: expect.stringContaining(`s=${body.selector}`),
      });

      expect(
        audit(lab, 'dkim-rotate', domain)
          .filter((entry) => entry.actor.startsWith('drill-3-dkim'))
          .map((entry) => `${entry.actor} ${entry.outcome}`)
      ).toEqual(['drill-3-dkim-cut started', 'drill-3-dkim-cut interrupted', 'drill-3-dkim-again started', 'drill-3-dkim-again ok']);
      const subjects = drill.git('log', '--format=%s', '-n', '2').trim().split('\n');
      expect(subjects).toEqual([
        `mailops dkim-rotate ${domain} (by drill-3-dkim-again)`,
        `Changes of interrupted mailops dkim-rotate ${domain} (by drill-3-dkim-cut), committed by mailops dkim-rotate ${domain} (by drill-3-dkim-again)`,
      ]);
      expect(drill.git('show', '--name-only', '--format=', 'HEAD~1').trim()).toBe(`domains/${domain}/dkim_selector`);
    }
  );
});
