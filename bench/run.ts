// `npm run bench`: runs every bench/*.bench.ts in name order, each in its own Node.js process (so that one
// benchmark's memory and timers do not colour the next), and fails when one fails.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const directory = import.meta.dirname;
const only = process.argv[2];
const files = readdirSync(directory)
  .filter((file) => file.endsWith('.bench.ts') && (only === undefined || file.includes(only)))
  .sort();
let failed = 0;
for (const file of files) {
  process.stdout.write(`\n== ${file}\n`);
  const result = spawnSync(process.execPath, [path.join(directory, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exitCode = failed === 0 ? 0 : 1;
