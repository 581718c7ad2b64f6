// `npm run lab`: a lab mail host to try mailops on, running until Ctrl-C. It prints the settings file to use:
//   npm run lab                     chasquid 1.15, Knot DNS and pebble
//   npm run lab -- --chasquid 1.11  the Debian 12 build instead
// Needs root and Debian's packages, like the tests (test/lab/packages.sh installs them).

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, startLab, type ChasquidBuild } from './lab.ts';

const { values } = parseArgs({ options: { chasquid: { type: 'string', default: '1.15' } } });
if (values.chasquid !== '1.11' && values.chasquid !== '1.15') {
  process.stderr.write('--chasquid takes 1.11 or 1.15\n');
  process.exit(2);
}
const prepared = spawnSync(path.join(repoRoot, 'test/lab/packages.sh'), { stdio: 'inherit' });
if (prepared.status !== 0) process.exit(1);

const lab = await startLab({ chasquid: values.chasquid as ChasquidBuild, acme: true });
process.stdout.write([
  `A lab mail host is running: chasquid ${lab.chasquid} as ${lab.hostname}, domains ${lab.domains.join(', ')}.`,
  '',
  `Its settings: ${lab.envFile}`,
  '',
  'In another terminal, from the mailops checkout:',
  `  npx mailops --env-file ${lab.envFile} status`,
  `  npx mailops --env-file ${lab.envFile} user-add alice@${lab.domains[0]}`,
  `  npx mailops --env-file ${lab.envFile} check ${lab.domains[0]}`,
  '',
  'Press Ctrl-C to stop it (its directory is removed).',
  '',
].join('\n'));
const stop = async () => {
  await lab.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => undefined, 60_000);
