#!/usr/bin/env node
// The `mailops` command. mailops runs on Node.js 24 (TypeScript sources run directly, node:sqlite); `npm ci` installs
// that Node into node_modules, and npm scripts and npx use it. Started by an older system Node, this file hands over
// to the pinned one, so `./bin/mailops.js` works from a checkout too. Plain JavaScript, so that Node 20 can read it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(`mailops needs Node.js 24 or newer, and this is ${process.version}.\nRun "npm ci" in the mailops checkout: it installs Node.js 24 for mailops.\n`);
    process.exit(2);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // A service manager may signal only this process: pass it on, so that `mailops start` stops cleanly.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
  // Everything is closed by now; a library's stray timer (a reconnect attempt) must not keep the process alive.
  setTimeout(() => process.exit(), 2000).unref();
}

