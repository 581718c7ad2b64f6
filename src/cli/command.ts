// The shape of one `mailops <name>` command: its interface (arguments and options, as in interface.md) and how it
// runs. `run` calls one operation of src/ops and returns its result twice: as the JSON object of the interface
// and as text for a terminal. A command without `run` is listed but not built yet.

import type { Runtime } from '../runtime.ts';

export interface CommandOutput {
  /** The result object (printed with --json). */
  json: unknown;
  /** The same result for a person. */
  text: string;
  /** 0 unless the result itself is a failure (a check that failed, drift found). */
  exitCode?: number;
}

export interface CommandContext {
  runtime: Runtime;
  /** Who is recorded in the audit trail. */
  actor: string;
  /** Standard input, for --password-stdin. */
  stdin: NodeJS.ReadableStream;
  /** Standard error, for what a person must read while the command runs (records to publish by hand). */
  stderr: NodeJS.WritableStream;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** Commander argument syntax: `<address>`, `[domain]`. */
  arguments: string[];
  options: Array<{ flags: string; description: string }>;
  run?: (context: CommandContext, args: string[], options: Record<string, unknown>) => Promise<CommandOutput>;
}
