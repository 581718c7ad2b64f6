// One rule for confirmations on both fronts (src/ops/confirmation.ts), seen from the CLI against a real host: the
// changes that ask in Discord refuse without --yes (exit 3, nothing changed, audited), and a removal of something
// that does not exist says so at once (exit 2) instead of asking first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../cli.ts';
import { startLab, type Lab } from './lab.ts';
import { treeFingerprint } from './tree.ts';

describe('confirmations in the CLI', () => {
  let lab: Lab;
  const mailops = (...args: string[]): Promise<CliRun> => runCli([...args, '--json', '--env-file', lab.envFile]);
  const refusedUnchanged = async (...args: string[]) => {
    const before = treeFingerprint(lab.chasquidDir);
    const run = await mailops(...args);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout).error).toMatchObject({
      code: 'confirmation-required',
      hint: 'Run it again with --yes (in Discord: press Confirm).',
    });
    expect(treeFingerprint(lab.chasquidDir)).toEqual(before);
    return JSON.parse(run.stdout).error.message as string;
  };

  beforeAll(async () => {
    lab = await startLab({ domains: ['example.test'], dns: false });
    for (const address of ['alice@example.test', 'bob@example.test']) expect((await mailops('user-add', address)).code).toBe(0);
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('user-remove and alias-remove of something that does not exist: exit 2 at once, with or without --yes', async () => {
    for (const yes of [[], ['--yes']]) {
      const sender = await mailops('user-remove', 'ghost@example.test', ...yes);
      expect(sender.code).toBe(2);
      expect(JSON.parse(sender.stdout).error.code).toBe('sender-not-found');
      const alias = await mailops('alias-remove', 'ghost@example.test', ...yes);
      expect(alias.code).toBe(2);
      expect(JSON.parse(alias.stdout).error.code).toBe('alias-not-found');
    }
  });

  it('user-remove of an existing sender needs --yes and says what it would do', async () => {
    expect(await refusedUnchanged('user-remove', 'bob@example.test')).toContain('Remove the sender bob@example.test?');
  });

  it('dkim-rotate needs --yes; an unknown key type is still invalid input (exit 2)', async () => {
    expect(await refusedUnchanged('dkim-rotate', 'example.test')).toContain('Rotate the DKIM key of example.test (rsa2048)?');
    expect((await mailops('dkim-rotate', 'example.test', '--algo', 'dsa')).code).toBe(2);
    expect((await mailops('dkim-rotate', 'example.org', '--yes')).code).toBe(2);
  });

  it('alias-set: a new catch-all goes through, replacing it needs --yes', async () => {
    expect((await mailops('alias-set', '*@example.test', 'alice')).code).toBe(0);
    expect(await refusedUnchanged('alias-set', '*@example.test', 'bob')).toContain(
      'Replace the catch-all of example.test? Mail to unknown addresses now goes to alice@example.test; it would go to bob@example.test.'
    );
    expect((await mailops('alias-set', '*@example.test', 'bob', '--yes')).code).toBe(0);
    expect(JSON.parse((await mailops('aliases')).stdout).aliases).toEqual([{ address: '*@example.test', targets: ['bob@example.test'] }]);
  });

  it("alias-set that takes over an existing sender's mail needs --yes; an ordinary alias does not", async () => {
    expect(await refusedUnchanged('alias-set', 'alice@example.test', 'bob')).toContain(
      'alice@example.test is a sender: an alias takes over its mail'
    );
    expect((await mailops('alias-set', 'sales@example.test', 'bob')).code).toBe(0);
    expect((await mailops('alias-set', 'alice@example.test', 'bob', '--yes')).code).toBe(0);
  });

  it('alias-remove of an existing alias needs --yes', async () => {
    expect(await refusedUnchanged('alias-remove', 'sales@example.test')).toContain(
      'Remove the alias sales@example.test (→ bob@example.test)?'
    );
    expect((await mailops('alias-remove', 'sales@example.test', '--yes')).code).toBe(0);
  });
});
