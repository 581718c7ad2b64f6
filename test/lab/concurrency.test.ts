// Concurrent writers while SSH connections are killed at random (issue 12's randomized drill).
//
// Three writers — separate `mailops` processes, as the bot and two terminals would be — change one domain of a lab
// host (chasquid 1.15, CHASQUID_DIR kept in git) at the same time, while every SSH connection the host serves is
// killed at random moments. Afterwards the host itself is asked, not mailops: every call that reported success must
// be in the file (for user-add: the printed password must log in over SMTP AUTH), every call that reported failure
// must have left no trace, each git commit named after a change must hold that change and nobody else's, and the
// audit trail must say the same as the exit codes. The random schedule comes from a seed printed with every
// failure (FAULT_SEED=… reproduces the schedule of drops; the machine's timing still varies).

import { execFileSync } from 'node:child_process';
import { chownSync, chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.ts';
import { runCli, type CliRun } from '../cli.ts';
import { waitForAuthentication } from '../smtp.ts';
import { elapse } from '../wait.ts';
import { startLab, type Lab } from './lab.ts';

const domain = 'example.test';
const writers = ['a', 'b', 'c'] as const;
const seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded generator, so that a failing schedule can be run again. */
function random(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Call {
  writer: string;
  address: string;
  local: string;
  run: CliRun;
  body: { ok?: boolean; password?: string; error?: { code: string; message: string } };
}

let lab: Lab;
const git = (...args: string[]) => execFileSync('git', ['-C', lab.chasquidDir, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const domainFile = (name: string) => path.join(lab.chasquidDir, 'domains', domain, name);
const sshdSessions = () => {
  const sshd = readFileSync(path.join(lab.dir, 'ssh/sshd.pid'), 'utf8').trim();
  try {
    return execFileSync('pgrep', ['-P', sshd], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '').length;
  } catch {
    return 0;
  }
};

/**
 * Runs `calls` for each writer (each writer one call after the other, the writers side by side) while killing every
 * SSH connection at random moments, 1 to 6 s apart (more often, and on a loaded machine no call gets through at all). Returns the calls and how many drops killed how many sessions.
 */
/**
 * Runs the writers' calls while SSH connections are dropped at random. Each writer makes `perWriter` calls, and more
 * (up to three times as many) while fewer than `minimumDrops` drops have happened: on a fast machine the calls could
 * otherwise all finish between a handful of drops, and the drill would test little.
 */
async function underRandomDrops(
  call: (writer: string, index: number) => { address: string; args: string[] },
  options: { perWriter: number; minimumDrops: number },
  next: () => number,
  spreadMs = 5000
) {
  let running = true;
  const drops = { drops: 0, sessionsKilled: 0 };
  const chaos = (async () => {
    while (running) {
      // Drops at random moments are the point of the drill: nothing to wait for but the moment itself.
      await elapse('a random pause between two SSH drops', 1000 + next() * spreadMs);
      if (!running) break;
      drops.sessionsKilled += sshdSessions();
      drops.drops += 1;
      await lab.dropSshConnections();
    }
  })();
  const started = Date.now();
  const results = await Promise.all(
    writers.map(async (writer) => {
      const done: Call[] = [];
      for (let index = 0; index < options.perWriter || (drops.drops < options.minimumDrops && index < 3 * options.perWriter); index += 1) {
        const made = call(writer, index);
        const run = await runCli([...made.args, '--json', '--actor', `drill-${writer}`, '--env-file', lab.envFile]);
        let body: Call['body'];
        try {
          body = JSON.parse(run.stdout) as Call['body'];
        } catch {
          body = { error: { code: 'no-json', message: `${run.stdout}\n${run.stderr}`.slice(0, 500) } };
        }
        done.push({ writer, address: made.address, local: made.address.split('@')[0] ?? '', run, body });
      }
      return done;
    })
  );
  running = false;
  await chaos;
  return { calls: results.flat(), ...drops, seconds: Math.round((Date.now() - started) / 1000) };
}

/** What a failed call said, grouped: `code: count`. */
const failureCodes = (calls: Call[]) =>
  Object.entries(
    calls
      .filter((call) => call.run.code !== 0)
      .reduce<Record<string, number>>(
        (counts, call) => ({
          ...counts,
          [call.body.error?.code ?? `exit ${call.run.code}`]: (counts[call.body.error?.code ?? `exit ${call.run.code}`] ?? 0) + 1,
        }),
        {}
      )
  );

/** One message of each kind of failure, to say in a failed drill what went wrong. */
const failureExamples = (calls: Call[]) =>
  [
    ...new Map(
      calls
        .filter((call) => call.run.code !== 0)
        .map((call) => [
          call.body.error?.code ?? `exit ${call.run.code}`,
          `${call.address}: ${call.body.error?.message ?? call.run.stderr.slice(0, 300)}`,
        ])
    ).values(),
  ].join('\n');

/** The audit trail's outcomes for one operation and target, oldest first. */
function auditOutcomes(operation: string): Map<string, Array<{ outcome: string; actor: string }>> {
  const database = openDatabase(lab.env.STATE_DB ?? '');
  try {
    const rows = database.prepare('SELECT target, outcome, actor FROM audit WHERE operation = ? ORDER BY id').all(operation) as Array<{
      target: string;
      outcome: string;
      actor: string;
    }>;
    const byTarget = new Map<string, Array<{ outcome: string; actor: string }>>();
    for (const row of rows) byTarget.set(row.target, [...(byTarget.get(row.target) ?? []), { outcome: row.outcome, actor: row.actor }]);
    return byTarget;
  } finally {
    database.close();
  }
}

/** Every commit after the seed: its subject and the keys (alias or sender names) of the aliases lines it added. */
function commitsSinceSeed(file: string): Array<{ subject: string; added: string[] }> {
  const log = git('log', '--reverse', '--format=%H%x09%s', 'seed..HEAD')
    .trim()
    .split('\n')
    .filter((line) => line !== '');
  return log.map((line) => {
    const [sha = '', subject = ''] = line.split('\t');
    const diff = git('show', '--format=', '-U0', '--no-color', sha, '--', file);
    const added = diff
      .split('\n')
      .filter((diffLine) => diffLine.startsWith('+') && !diffLine.startsWith('+++'))
      .map((diffLine) => diffLine.slice(1).split(':')[0] ?? '');
    return { subject, added };
  });
}

beforeAll(async () => {
  lab = await startLab({ chasquid: '1.15', domains: [domain], dns: false });
  // A large aliases file (5,000 lists forwarding elsewhere), and the configuration directory kept in git.
  const lines = Array.from({ length: 5000 }, (_, index) => `list${String(index).padStart(4, '0')}: member${index}@elsewhere.test`);
  writeFileSync(domainFile('aliases'), `# lists\n${lines.join('\n')}\n`);
  chownSync(domainFile('aliases'), 0, lab.daemon.gid);
  chmodSync(domainFile('aliases'), 0o640);
  git('init', '-q');
  git('-c', 'user.name=seed', '-c', 'user.email=seed@example.test', 'add', '-A');
  git('-c', 'user.name=seed', '-c', 'user.email=seed@example.test', 'commit', '-qm', 'seed');
  git('tag', 'seed');
});

afterAll(async () => {
  await lab?.stop();
});

describe(`three writers, SSH connections killed at random (seed ${seed})`, () => {
  it(
    'alias-set on a 5,000-line aliases file: every alias reported set is there, each commit holds its own change',
    { timeout: 1_200_000 },
    async () => {
      const next = random(seed);
      const perWriter = 17;
      const { calls, drops, sessionsKilled, seconds } = await underRandomDrops(
        (writer, index) => {
          const address = `f${writer}${index}@${domain}`;
          return { address, args: ['alias-set', address, `t${writer}${index}@elsewhere.test`] };
        },
        { perWriter, minimumDrops: 10 },
        next
      );
      const succeeded = calls.filter((call) => call.run.code === 0);
      const failed = calls.filter((call) => call.run.code !== 0);

      const file = readFileSync(domainFile('aliases'), 'utf8').split('\n');
      const present = new Map(file.map((line) => [line.split(':')[0] ?? '', line]));
      const lost = succeeded.filter(
        (call) => present.get(call.local) !== `${call.local}: t${call.writer}${call.local.slice(2)}@elsewhere.test`
      );
      const failedButApplied = failed.filter((call) => present.has(call.local));
      const summary =
        `seed ${seed}: ${calls.length} writes in ${seconds} s, ${drops} drops killing ${sessionsKilled} SSH sessions; ` +
        `${succeeded.length} reported done, ${lost.length} of them lost; ${failed.length} failed (${
          failureCodes(calls)
            .map(([code, count]) => `${code} ×${count}`)
            .join(', ') || 'none'
        }), ` +
        `${failedButApplied.length} of those applied anyway`;
      console.log(`${summary}\n${failureExamples(calls)}`);

      expect(calls.length).toBeGreaterThanOrEqual(50);
      expect(drops, summary).toBeGreaterThanOrEqual(10);
      expect(succeeded.length, summary).toBeGreaterThanOrEqual(25);
      expect(
        lost.map((call) => call.address),
        summary
      ).toEqual([]);
      // Nothing else in the file was lost either: the 5,000 lists and the comment are there, once each.
      expect(file.filter((line) => /^list[0-9]{4}: member[0-9]+@elsewhere\.test$/.test(line))).toHaveLength(5000);
      expect(file[0]).toBe('# lists');
      // A failure that says nothing was changed must be true.
      expect(
        failedButApplied.map((call) => `${call.address}: ${call.body.error?.code}`),
        summary
      ).toEqual([]);

      // The audit trail agrees with what each process printed: `started`, then `ok` for a success and no `ok` otherwise.
      const audit = auditOutcomes('alias-set');
      for (const call of calls) {
        const outcomes = audit.get(call.address) ?? [];
        expect(
          outcomes.every((entry) => entry.actor === `drill-${call.writer}`),
          call.address
        ).toBe(true);
        if (call.run.code === 0)
          expect(
            outcomes.map((entry) => entry.outcome),
            call.address
          ).toEqual(['started', 'ok']);
        else
          expect(
            outcomes.map((entry) => entry.outcome),
            call.address
          ).not.toContain('ok');
      }

      // Git: a commit named after a change holds exactly that change; every change is in history or still pending.
      const commits = commitsSinceSeed(`domains/${domain}/aliases`);
      const misattributed = commits.flatMap((commit) => {
        const named = /^mailops alias-set f([abc])([0-9]+)@example\.test \(by drill-([abc])\)$/.exec(commit.subject);
        if (named === null) return [];
        const key = `f${named[1]}${named[2]}`;
        const wrong = named[1] !== named[3] || commit.added.some((added) => added !== key);
        return wrong ? [`${commit.subject}: ${commit.added.join(', ')}`] : [];
      });
      expect(misattributed, summary).toEqual([]);
      const ownCommit = new Set(
        commits.filter((commit) => commit.subject.startsWith('mailops alias-set')).flatMap((commit) => commit.added)
      );
      const otherCommits = commits.filter((commit) => !commit.subject.startsWith('mailops alias-set'));
      // Besides: edits found uncommitted before a change (a writer whose commit was cut off), and mailops-host's own
      // commit that stops tracking the private keys the seed committed.
      expect(
        otherCommits.every((commit) =>
          /^(Changes (found in the working tree before|of interrupted) mailops |mailops: keep private keys and password hashes out of git)/.test(
            commit.subject
          )
        ),
        otherCommits.map((commit) => commit.subject).join('\n')
      ).toBe(true);
      const committedElsewhere = succeeded.filter((call) => !ownCommit.has(call.local));
      console.log(
        `${succeeded.length - committedElsewhere.length} of ${succeeded.length} successes in a commit of their own; ${committedElsewhere.length} committed as changes found by a later writer or still uncommitted`
      );
      expect(committedElsewhere.length, summary).toBeLessThanOrEqual(Math.ceil(succeeded.length / 5));
    }
  );

  it(
    'user-add: every sender whose password was printed can log in with it; every failure left no sender',
    { timeout: 1_200_000 },
    async () => {
      const next = random(seed + 1);
      const perWriter = 7;
      const { calls, drops, sessionsKilled, seconds } = await underRandomDrops(
        (writer, index) => {
          const address = `u${writer}${index}@${domain}`;
          return { address, args: ['user-add', address] };
        },
        { perWriter, minimumDrops: 3 },
        next,
        // Drops 1 to 2.5 s apart: 21 user-adds take only about 10 s on a quiet machine.
        1500
      );
      const succeeded = calls.filter((call) => call.run.code === 0);
      const failed = calls.filter((call) => call.run.code !== 0);
      const users = (() => {
        try {
          return readFileSync(domainFile('users'), 'utf8');
        } catch {
          return '';
        }
      })();
      const isSender = (local: string) => users.includes(`key: "${local}"`);
      const summary =
        `seed ${seed}: ${calls.length} user-adds in ${seconds} s, ${drops} drops killing ${sessionsKilled} SSH sessions; ` +
        `${succeeded.length} printed a password; ${failed.length} failed (${
          failureCodes(calls)
            .map(([code, count]) => `${code} ×${count}`)
            .join(', ') || 'none'
        })`;
      console.log(`${summary}\n${failureExamples(calls)}`);

      expect(drops, summary).toBeGreaterThanOrEqual(3);
      expect(succeeded.length, summary).toBeGreaterThanOrEqual(10);
      for (const call of succeeded) {
        expect(call.body.password, call.address).toMatch(/^\S{24}$/);
        expect(isSender(call.local), `${call.address} printed a password but is not in the users file (${summary})`).toBe(true);
      }
      expect(
        failed
          .filter((call) => isSender(call.local))
          .map((call) => `${call.address}: ${call.body.error?.code} ${call.body.error?.message}`),
        summary
      ).toEqual([]);
      // chasquid itself accepts each printed password (it reads the users file again within a second in the lab).
      for (const call of succeeded) {
        await waitForAuthentication(lab, call.address, call.body.password ?? '', true);
      }
      const audit = auditOutcomes('user-add');
      for (const call of calls) {
        const outcomes = (audit.get(call.address) ?? []).map((entry) => entry.outcome);
        if (call.run.code === 0) expect(outcomes, call.address).toEqual(['started', 'ok']);
        else expect(outcomes, call.address).not.toContain('ok');
      }
    }
  );
});
