// `npm run lab`: a lab mail host to try mailops on, running until Ctrl-C. It prints the settings file to use, where
// delivered mail lands, and how to try deploy/host-setup.sh's restricted user against it:
//   npm run lab                     chasquid 1.15, Knot DNS and pebble
//   npm run lab -- --chasquid 1.11  the Debian 12 build instead
// Needs root and Debian's packages, like the tests (test/lab/packages.sh installs them).

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, startLab } from './lab.ts';

let values: { chasquid: string };
try {
  ({ values } = parseArgs({ options: { chasquid: { type: 'string', default: '1.15' } } }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\nUsage: npm run lab [-- --chasquid 1.11|1.15]\n`);
  process.exit(2);
}
if (values.chasquid !== '1.11' && values.chasquid !== '1.15') {
  process.stderr.write('--chasquid takes 1.11 or 1.15\n');
  process.exit(2);
}
const prepared = spawnSync(path.join(repoRoot, 'test/lab/packages.sh'), { stdio: 'inherit' });
if (prepared.status !== 0) process.exit(1);

const lab = await startLab({ chasquid: values.chasquid, acme: true });
const domain = lab.domains[0]!;
// `--` first: npx runs on Node, which would read a bare `--env-file` itself.
const mailops = `npx mailops -- --env-file ${lab.envFile}`;
const hostUser = 'mailops-lab';
const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
process.stdout.write(
  [
    `A lab mail host is running: chasquid ${lab.chasquid} as ${lab.hostname}, domains ${lab.domains.join(', ')}.`,
    '',
    `Its settings: ${lab.envFile}`,
    `Delivered mail: ${lab.mailDir}/<recipient>/<time>.eml (SMTP on 127.0.0.1:${lab.ports.smtp})`,
    '',
    'In another terminal, from the mailops checkout:',
    `  ${mailops} status`,
    `  ${mailops} user-add alice@${domain}`,
    `  ${mailops} dkim-rotate ${domain} --yes`,
    `  ${mailops} check ${domain}`,
    `  swaks --server 127.0.0.1:${lab.ports.smtp} --from someone@example.org --to alice@${domain}`,
    '',
    'The restricted host user of deploy/host-setup.sh, against the lab:',
    `  sh deploy/host-setup.sh --user ${hostUser} --key-file ${lab.env.SSH_KEY_FILE}.pub --chasquid-dir ${lab.chasquidDir} \\`,
    `    --restart ${quote(lab.env.CHASQUID_RESTART!)} --path ${path.join(lab.dir, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin --prefix ${path.join(lab.dir, 'mailops-host')}`,
    `  MAIL_HOST=ssh://${hostUser}@127.0.0.1:${lab.ports.ssh} ${mailops} status`,
    `  sh deploy/host-setup.sh --user ${hostUser} --remove          # afterwards`,
    '',
    'Press Ctrl-C to stop it (its directory is removed).',
    '',
  ].join('\n')
);
const stop = async () => {
  await lab.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => undefined, 60_000);
