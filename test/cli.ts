// Runs the real `mailops` command (bin/mailops.js) as a child process, as an operator would.

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './lab/lab.ts';

/** An empty working directory, so that no stray .env is read by accident. */
const emptyDirectory = mkdtempSync(path.join(os.tmpdir(), 'mailops-cli-'));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string; script?: string; nodeOptions?: string[] } = {}
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(options.nodeOptions ?? []), '--', path.join(repoRoot, options.script ?? 'bin/mailops.js'), ...args],
      {
        cwd: options.cwd ?? emptyDirectory,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      }
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
