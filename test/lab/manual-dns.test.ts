// DNS_PROVIDER=manual through the real command line: mailops prints the exact record and waits — for Enter, or with
// --wait for the record to appear at the authoritative servers. Here the "person" is the test: it reads the record
// from standard error and publishes it in the lab's Knot with knotc, as an operator would in a DNS panel.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { elapse } from '../wait.ts';
import { repoRoot, startLab, type Lab } from './lab.ts';

interface Interactive {
  /** Resolves with standard error once it matches. */
  waitForStderr(pattern: RegExp): Promise<RegExpExecArray>;
  write(text: string): void;
  /** Closes standard input. */
  end(): void;
  kill(): void;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function interactiveCli(args: string[], env: Record<string, string>): Interactive {
  const child = spawn(process.execPath, ['--', path.join(repoRoot, 'bin/mailops.js'), ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(stderr);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  });
  return {
    waitForStderr: (pattern) =>
      new Promise((resolve) => {
        const match = pattern.exec(stderr);
        if (match) resolve(match);
        else waiters.push({ pattern, resolve });
      }),
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
    kill: () => child.kill('SIGKILL'),
    done: new Promise((resolve) =>
      child.on('close', (code) => {
        child.stdin.destroy();
        resolve({ code, stdout, stderr });
      })
    ),
  };
}

describe('publishing DNS records by hand (DNS_PROVIDER=manual)', () => {
  let lab: Lab;
  const domain = 'example.test';

  beforeAll(async () => {
    lab = await startLab({ chasquid: '1.15', domains: [domain] });
  });

  const running: Interactive[] = [];
  const cli = (args: string[]) => {
    const run = interactiveCli([...args, '--json', '--env-file', lab.envFile], { DNS_PROVIDER: 'manual' });
    running.push(run);
    return run;
  };

  afterEach(() => {
    // A run left waiting by a failed assertion would hold the host lock for the next test.
    for (const run of running.splice(0)) run.kill();
  });

  afterAll(async () => {
    await lab?.stop();
  });

  /** Publishes a zone-file line printed by mailops (`name. ttl IN TXT "…" "…"`) in Knot. */
  async function publishByHand(line: string): Promise<void> {
    const [name, ttl, , , ...strings] = line.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
    await lab.knotc('zone-begin', domain);
    await lab.knotc('zone-set', domain, name as string, ttl as string, 'TXT', ...strings);
    await lab.knotc('zone-commit', domain);
  }

  it('prints the record, waits for Enter, then checks it at every authoritative server and goes on', async () => {
    const run = cli(['dkim-rotate', domain, '--yes']);
    const shown = await run.waitForStderr(
      /\n {2}(\S+\._domainkey\.example\.test\. 3600 IN TXT .+)\n[\s\S]*Press Enter once it is published\./
    );
    const line = shown[1] as string;
    expect(line).toMatch(/^\d{8}\._domainkey\.example\.test\. 3600 IN TXT "v=DKIM1; k=rsa; p=[^"]+" "[^"]+"/);
    await publishByHand(line);
    run.write('\n');
    const result = await run.done;
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ domain, published: true, active: true, verified: true });
    expect(line.replace(/" "/g, '')).toContain(body.record);
  });

  it('with --wait, polls DNS instead of waiting for Enter', async () => {
    const run = cli(['dkim-rotate', domain, '--wait', '--yes']);
    const shown = await run.waitForStderr(
      /\n {2}(\S+\._domainkey\.example\.test\. 3600 IN TXT .+)\n[\s\S]*Waiting until every authoritative name server shows it/
    );
    // Publishing a moment after mailops started looking, so that it has to look again: nothing outside mailops shows
    // its first look (Knot keeps no query log in the lab), so this is a pause, not a wait for an event.
    await elapse("mailops's first look at the name servers", 500);
    await publishByHand(shown[1] as string);
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ domain, published: true, active: true, verified: true });
    expect(result.stderr).not.toContain('Press Enter');
  });

  it('fails clearly when standard input ends before the record is confirmed, and changes nothing', async () => {
    const before = await lab.knotc('zone-read', domain);
    const run = cli(['dkim-rotate', domain, '--yes']);
    await run.waitForStderr(/Press Enter once it is published\./);
    run.end();
    const result = await run.done;
    expect(result.code).toBe(1);
    const error = JSON.parse(result.stdout).error;
    expect(error.code).toBe('manual-dns-not-confirmed');
    expect(error.message).toContain(`dkim-rotate ${domain} stopped at step "publish the new key in DNS"`);
    expect(error.message).toContain('Nothing had been changed.');
    expect(await lab.knotc('zone-read', domain)).toBe(before);
  });
});
