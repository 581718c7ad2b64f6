// `npm run bench`: runs every bench/*.bench.ts, one after another, each in its own process, and fails if one does.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const directory = import.meta.dirname;
let failed = 0;
for (const file of readdirSync(directory).filter((name) => name.endsWith('.bench.ts')).sort()) {
  console.log(`# ${file}`);
  const result = spawnSync(process.execPath, [path.join(directory, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exitCode = failed === 0 ? 0 : 1;
