// Before any test: make sure the lab's Debian packages and the chasquid 1.15 build are installed. In CI nothing is
// skipped, so a machine where they cannot be installed fails here, loudly, with the reason.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './lab.ts';

export default function setup(): void {
  const result = spawnSync(path.join(repoRoot, 'test/lab/packages.sh'), { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`The lab cannot be prepared: test/lab/packages.sh failed (${result.status ?? result.signal}).\n${result.stderr}`);
  }
}
