// The service definition is checked by systemd's own tools: it parses without a single warning, and its sandbox
// leaves little exposed. (The container image cannot be built here: no Docker engine.)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './lab/lab.ts';

function unitForThisCheckout(): string {
  const unit = readFileSync(path.join(repoRoot, 'deploy/mailops.service'), 'utf8').replaceAll('/opt/mailops', repoRoot);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mailops-unit-')), 'mailops.service');
  writeFileSync(file, unit);
  return file;
}

describe('deploy/mailops.service', () => {
  it('passes systemd-analyze verify without a warning', () => {
    const result = spawnSync('systemd-analyze', ['verify', unitForThisCheckout()], { encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stderr.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('is sandboxed: systemd-analyze security rates its exposure 2.0 or lower', () => {
    const result = spawnSync('systemd-analyze', ['security', '--offline=yes', unitForThisCheckout()], { encoding: 'utf8' });
    const output = `${result.stdout}${result.stderr}`;
    const level = /Overall exposure level for [^:]+: ([0-9.]+)/.exec(output)?.[1];
    expect(level).toBeDefined();
    expect(Number(level)).toBeLessThanOrEqual(2.0);
  });

  it('keeps the hardening the README promises', () => {
    const unit = readFileSync(path.join(repoRoot, 'deploy/mailops.service'), 'utf8');
    for (const line of [
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'StateDirectory=mailops',
      'EnvironmentFile=/etc/mailops/mailops.env',
      'Restart=on-failure',
      'DynamicUser=yes',
    ]) {
      expect(unit).toContain(line);
    }
  });
});
