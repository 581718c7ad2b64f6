// Faults injected at named steps of the lab's mail host, and mailops run as a process that can be killed.
//
// mailops-host is a shell script: each of its steps runs a program (flock to take the state lock, mv for each
// rename of an `apply`, stat for its answer, …). The lab's sshd puts the lab's bin/ first on PATH, so a test can
// put a wrapper there for such a program. The wrapper does nothing unless it is armed for one mailops-host verb (and
// optionally one of that call's words, such as a file name, and one argument of the program, such as the target of
// a rename). Armed, it stops there and tells the test, which then does what the drill is about — drops the SSH
// connections, SIGKILLs mailops, SIGKILLs mailops-host itself — and lets the step go on or not. So the fault hits
// exactly the step named, every time, and no line of mailops knows about it.

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliRun } from '../cli.ts';
import { waitFor } from '../wait.ts';
import { repoRoot, type Lab } from './lab.ts';

export interface FaultPoint {
  /** The program mailops-host runs at that step: `flock`, `mv`, `stat`, `sha256sum`, … */
  program: string;
  /** The mailops-host verb whose step it is (`apply`, `hash`, `lease`, …). */
  verb: string;
  /** A word the mailops-host call must carry, e.g. the file an `apply` writes. */
  word?: string;
  /** Shell patterns that arguments of the program must match, e.g. the target of a rename. */
  arguments?: string[];
}

export interface ReachedPoint {
  /** The pid of the mailops-host process (the shell) that stopped there. */
  hostPid: number;
  /** Lets the step go on. */
  release(): void;
  /** SIGKILLs that mailops-host process (as a crash or power cut of the host would stop it): the step never runs. */
  killHost(): void;
}

export interface ArmedPoint {
  /** Resolves once a call reached the point (rejects after `timeoutMs`). */
  reached(timeoutMs?: number): Promise<ReachedPoint>;
  /** Whether a call has reached it. */
  wasReached(): boolean;
}

function realProgram(program: string): string {
  return execFileSync('sh', ['-c', `PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v ${program}`], { encoding: 'utf8' }).trim();
}

function installWrapper(lab: Lab, program: string, faults: string): void {
  const file = path.join(lab.dir, 'bin', program);
  if (existsSync(file)) return;
  const mv = realProgram('mv');
  const script = `#!/bin/sh
# A fault point of the lab (test/lab/fault-points.ts): waits here when armed for this call, else runs ${program}.
for armed in ${faults}/${program}.*.armed; do
  [ -e "$armed" ] || continue
  name=\${armed%.armed}
  { IFS= read -r verb; IFS= read -r word; } < "$armed"
  call=$(tr '\\0' '\\n' < /proc/$PPID/cmdline 2>/dev/null) || continue
  printf '%s\\n' "$call" | grep -qxF -- "$verb" || continue
  [ -z "$word" ] || printf '%s\\n' "$call" | grep -qxF -- "$word" || continue
  # Lines 3 and on: shell patterns, each of which one argument of the program must match.
  matched=true
  while IFS= read -r pattern; do
    [ -n "$pattern" ] || continue
    given=false
    for a in "$@"; do case $a in $pattern) given=true ;; esac; done
    $given || matched=false
  done <<PATTERNS
$(sed -n '3,$p' "$armed")
PATTERNS
  $matched || continue
  ${mv} "$armed" "$name.taken" 2>/dev/null || continue
  echo "$PPID" > "$name.reached.tmp" && ${mv} "$name.reached.tmp" "$name.reached"
  waited=0
  while [ ! -e "$name.go" ] && [ "$waited" -lt 6000 ]; do sleep 0.05; waited=$((waited + 1)); done
  [ "$(cat "$name.go" 2>/dev/null)" = go ] || exit 1
  break
done
exec ${realProgram(program)} "$@"
`;
  writeFileSync(file, script);
  chmodSync(file, 0o755);
}

let counter = 0;

/** Arms a fault point for the next call that reaches it (once). */
export function armFault(lab: Lab, point: FaultPoint): ArmedPoint {
  const faults = path.join(lab.dir, 'run', 'faults');
  mkdirSync(faults, { recursive: true });
  installWrapper(lab, point.program, faults);
  counter += 1;
  const name = path.join(faults, `${point.program}.${process.pid}-${counter}`);
  writeFileSync(`${name}.armed.tmp`, `${[point.verb, point.word ?? '', ...(point.arguments ?? [])].join('\n')}\n`);
  execFileSync(realProgram('mv'), [`${name}.armed.tmp`, `${name}.armed`]);
  return {
    wasReached: () => existsSync(`${name}.reached`),
    async reached(timeoutMs = 120_000) {
      await waitFor(`mailops-host ${point.verb} to reach the fault point ${point.program}`, () => existsSync(`${name}.reached`), {
        timeoutMs,
        intervalMs: 10,
      });
      const hostPid = Number(readFileSync(`${name}.reached`, 'utf8').trim());
      return {
        hostPid,
        release: () => writeFileSync(`${name}.go`, 'go'),
        killHost: () => {
          try {
            process.kill(hostPid, 'SIGKILL');
          } catch {
            /* already gone */
          }
          writeFileSync(`${name}.go`, 'abort');
        },
      };
    },
  };
}

export interface RunningCli {
  pid: number;
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
  /** What it wrote to standard error so far. */
  stderr(): string;
  kill(): void;
}

/** Runs `mailops` as test/cli.ts does, but hands out the process so that a drill can SIGKILL it. */
export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/mailops.js'), ...args], {
    // An empty working directory, so that no stray .env is read.
    cwd: mkdtempSync(path.join(os.tmpdir(), 'mailops-cli-')),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.end('');
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { pid: child.pid ?? 0, done, stderr: () => stderr, kill: () => child.kill('SIGKILL') };
}

/** Waits until `mailops` reaches the fault point; fails with its output if it ends first. */
export async function reachedBy(point: ArmedPoint, cli: RunningCli, timeoutMs = 240_000): Promise<ReachedPoint> {
  const ended = cli.done.then((run) => {
    throw new Error(`mailops ended (exit ${run.code}) before it reached the fault point:\n${run.stdout}\n${run.stderr}`);
  });
  ended.catch(() => undefined);
  return Promise.race([point.reached(timeoutMs), ended]);
}
