#!/usr/bin/env -S node --
// The `mailops` command. mailops runs on Node.js 24 (TypeScript sources run directly, node:sqlite); `npm ci` installs
// that Node into node_modules (the platform package node-<os>-<cpu>, pinned in package-lock.json), and npm scripts and
// npx use it. Started by an older system Node, this file hands over to the pinned one, so that `./bin/mailops.js`
// works from a checkout too. Plain JavaScript, so that Node 20 can read it.
//
// Node is always started as `node -- <this file> <arguments>`: without the `--`, Node reads options such as
// `--env-file` itself even after the script's name, and a wrong path would end in Node's own error, not mailops's.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const pinned = fileURLToPath(new URL(`../node_modules/node-${process.platform}-${process.arch}/bin/node`, import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(
      `mailops needs Node.js 24 or newer, and this is ${process.version}.\nRun "npm ci" in the mailops checkout: it installs Node.js 24 for mailops.\n`
    );
    process.exit(2);
  }
  const child = spawn(pinned, ['--', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // A service manager may signal only this process: pass it on, so that `mailops start` stops cleanly.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  // A child killed by a signal exits as a shell reports it: 128 + the signal's number (SIGTERM: 143).
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
  // Everything is closed by now; a library's stray timer (a reconnect attempt) must not keep the process alive.
  setTimeout(() => process.exit(), 2000).unref();
}
