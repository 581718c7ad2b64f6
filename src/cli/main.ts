// The mailops command line: `mailops [--env-file F] [--json] [--actor NAME] <command> [arguments]`.
//
// Exit codes (README.md, "Commands"): 0 done; 1 the operation failed (or check/dns-diff found a problem); 2 invalid
// input, usage or configuration, with nothing changed; 3 refused; 4 conflict (the host's files kept changing while we
// changed them). Errors go to standard error in one or two lines (what happened, what to do); with --json, standard
// output carries only the result or {"ok":false,"error":{...}}.

import os from 'node:os';
import { Command, CommanderError } from 'commander';
import { loadCommands } from '../command/catalogue.ts';
import type { CommandDefinition } from '../command/definition.ts';
import { loadConfig } from '../config.ts';
import { asMailopsError, MailopsError, usageError } from '../errors.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { humanLogStream } from './log-lines.ts';
import { addCommand, cliCommands, runFromTerminal } from './program.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});

interface GlobalOptions {
  envFile?: string;
  json?: boolean;
  actor?: string;
}

function defaultActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function checkActor(actor: string): string {
  if (!/^[\p{L}\p{N} ._:@#-]{1,64}$/u.test(actor)) {
    throw usageError(
      'invalid-actor',
      'The --actor name must be 1 to 64 letters, digits, spaces or . _ : @ # -.',
      'For example: --actor "alice (on-call)" is not allowed, --actor alice@ops is.'
    );
  }
  return actor;
}

/**
 * Every JSON result carries `ok`, and it means one thing: the exit status is 0. `false` with `error` is an operation
 * that did not complete; `false` without it is a completed report that found a problem (a failing check, DNS drift,
 * a job that found something), whose fields say what.
 */
export function withOk(result: unknown, exitCode: number): unknown {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return result;
  const { ok: _given, ...rest } = result as Record<string, unknown>;
  return { ok: exitCode === 0, ...rest };
}

function printError(io: CliIo, json: boolean, error: MailopsError): void {
  io.stderr.write(`mailops: ${error.explanation}\n`);
  if (json) {
    const body: Record<string, string> = { code: error.code, message: error.message };
    if (error.hint !== undefined) body.hint = error.hint;
    io.stdout.write(`${JSON.stringify({ ok: false, error: body })}\n`);
  }
}

async function runCommand(
  command: CommandDefinition,
  input: Record<string, unknown>,
  given: Record<string, unknown>,
  global: GlobalOptions,
  io: CliIo
): Promise<number> {
  const json = global.json === true;
  let runtime: Runtime | undefined;
  try {
    const actor = checkActor(global.actor ?? defaultActor());
    const { config, secrets } = loadConfig({
      ...(global.envFile === undefined ? {} : { envFile: global.envFile }),
      cwd: io.cwd,
      env: io.env,
    });
    // A person at a terminal gets warnings as plain lines; LOG_LEVEL, when set, gives the JSON log at that level.
    runtime = config.explicitlySet.has('LOG_LEVEL')
      ? createRuntime({ config, secrets, logDestination: io.stderr })
      : createRuntime({ config, secrets, logLevel: 'warn', logDestination: humanLogStream(io.stderr) });
    const columns = (io.stdout as { columns?: number }).columns ?? 120;
    const output = await runFromTerminal(command, input, given, { runtime, actor, stdin: io.stdin, stderr: io.stderr, columns });
    const { exitCode } = output;
    io.stdout.write(json ? `${JSON.stringify(withOk(output.json, exitCode))}\n` : `${output.text}\n`);
    return exitCode;
  } catch (error) {
    const failure = asMailopsError(error);
    if (failure.code === 'internal') runtime?.logger.error({ err: error }, 'unexpected error');
    printError(io, json, failure);
    return failure.exitCode;
  } finally {
    await runtime?.close();
  }
}

/** Runs `mailops` with `givenArgv`; `commands` are the definitions of the commands folder unless given (tests). */
export async function main(givenArgv: string[], io: CliIo = processIo(), commands?: readonly CommandDefinition[]): Promise<number> {
  // `npx mailops -- --env-file F status`: npx runs on Node, which reads a bare `--env-file` itself unless a `--` comes
  // first; that `--` reaches us and ends nothing.
  const argv = givenArgv[0] === '--' ? givenArgv.slice(1) : givenArgv;
  const json = argv.includes('--json');
  let exitCode = 0;
  const program = new Command('mailops')
    .description('Run a chasquid mail server: senders, aliases, DKIM, certificates, deliverability checks.')
    .option('--env-file <path>', 'read settings from this file (default: .env in the working directory, if present)')
    .option('--json', 'print the result as JSON on standard output, and nothing else')
    .option('--actor <name>', 'who is recorded in the audit trail (default: cli:<your user name>)')
    .showSuggestionAfterError(true)
    // `mailops user-add --help` shows --env-file, --json and --actor too: they work after the command's name as well.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text),
    });

  for (const command of cliCommands(commands ?? (await loadCommands()))) {
    addCommand(program, command, async (definition, input, given) => {
      exitCode = await runCommand(definition, input, given, program.opts<GlobalOptions>(), io);
    });
  }

  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') return 0;
      // `user-add -rf@example.com`: what looks like an option is an address that starts with "-", which is invalid.
      const dashed = error.code === 'commander.unknownOption' ? /'(-[^']*[@.][^']*)'/.exec(error.message)?.[1] : undefined;
      const message =
        dashed !== undefined
          ? `"${dashed}" is not a valid address or domain: it must not start with "-".`
          : error.message.replace(/^error: /, '');
      if (dashed !== undefined) io.stderr.write(`mailops: ${message}\n`);
      if (json) io.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'usage', message } })}\n`);
      io.stderr.write('Run "mailops --help" for the commands and their arguments.\n');
      return 2;
    }
    const failure = asMailopsError(error);
    printError(io, json, failure);
    return failure.exitCode;
  }
}
