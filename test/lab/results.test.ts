// What the CLI prints, against a real host: every --json result carries `ok`, and it means one thing — the exit
// status is 0 (false with `error` when the operation did not complete, false without it for a report that found a
// problem); and the text of run-job never points at alerts it does not show.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { startLab, type Lab } from './lab.ts';

let lab: Lab;
const json = async (...args: string[]) => {
  const run = await runCli([...args, '--json', '--env-file', lab.envFile]);
  return { code: run.code, body: JSON.parse(run.stdout) as Record<string, unknown> };
};

beforeAll(async () => {
  lab = await startLab({ domains: ['example.test'] });
  expect((await runCli(['user-add', 'alice@example.test', '--env-file', lab.envFile])).code).toBe(0);
});

afterAll(async () => {
  await lab?.stop();
});

describe('ok in every JSON result', () => {
  it('is true exactly when the exit status is 0, for lists and changes alike', async () => {
    for (const args of [
      ['users'],
      ['aliases'],
      ['users', 'example.test'],
      ['cert-status'],
      ['status'],
      ['dkim-show', 'example.test'],
      ['alias-set', 'sales@example.test', 'alice'],
    ]) {
      const { code, body } = await json(...args);
      expect({ args, code, ok: body.ok }).toEqual({ args, code: 0, ok: true });
      expect(body).not.toHaveProperty('error');
    }
    expect((await json('users')).body).toMatchObject({ ok: true, users: expect.arrayContaining(['alice@example.test']) });
  }, 120_000);

  it('is false without error for a report that found a problem, false with error for an operation that failed', async () => {
    // The lab's certificate comes from a CA nobody trusts: the tls checks fail, the report itself is complete.
    const report = await json('check', 'example.test');
    expect(report.code).toBe(1);
    expect(report.body).toMatchObject({ ok: false, domain: 'example.test' });
    expect(report.body).not.toHaveProperty('error');

    const failed = await json('check', 'example.org');
    expect(failed.code).toBe(2);
    expect(failed.body).toEqual({ ok: false, error: expect.objectContaining({ code: 'domain-not-managed' }) });
  }, 60_000);
});

describe('a domain mailops does not manage', () => {
  it('is one error — one code, one sentence — from every command that takes a domain or an address', async () => {
    const errors = [];
    for (const args of [
      ['check', 'example.org'],
      ['dns-diff', 'example.org'],
      ['dkim-show', 'example.org'],
      ['users', 'example.org'],
      ['user-add', 'bob@example.org'],
      ['alias-set', 'sales@example.org', 'alice@example.test'],
    ]) {
      const { code, body } = await json(...args);
      expect({ args, code }).toEqual({ args, code: 2 });
      errors.push(body.error);
    }
    for (const error of errors) {
      expect(error).toEqual({
        code: 'domain-not-managed',
        message: 'example.org is not one of the domains mailops manages (MAIL_DOMAINS: example.test).',
        hint: 'Give a domain listed in MAIL_DOMAINS, or add it there.',
      });
    }
  }, 120_000);
});

describe('run-job in a terminal', () => {
  it('without alerts says so, and does not speak of "the alerts the job would post"', async () => {
    const run = await runCli(['run-job', 'dkim-retire', '--env-file', lab.envFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('No alerts.');
    expect(run.stdout).toContain('The Discord channels are not configured (ALERT_CHANNEL_ID): nothing is posted.');
    expect(run.stdout).not.toContain('would post');
  }, 60_000);
});
