// One command on one SSH session channel: open it, feed its standard input, collect its output up to a limit, stop it
// after its timeout, answer prompts on a pseudo-terminal, and report how it ended.

import type { Client, ClientChannel } from 'ssh2';
import { failedError, type MailopsError } from '../errors.ts';
import { ChannelOpenError } from './ssh-errors.ts';
import { defaultTimeoutMs, maxOutputBytes, type CallOptions, type ExecResult } from './transport.ts';

export interface Prompt {
  /** Output (on a pty: the terminal) that asks for something. */
  when: RegExp;
  /** What to type, followed by a newline. */
  answer: string;
}

export interface ExecOptions extends CallOptions {
  /** Allocate a pseudo-terminal (for programs that only prompt on a terminal). */
  pty?: boolean;
  /** Answers to prompts, each given once, in order. Only meaningful with `pty`. */
  prompts?: Prompt[];
}

/**
 * Opens a session channel running `command` and hands it to `use` synchronously, inside ssh2's callback: a fast
 * command's output, exit status and close can arrive in the same packet batch as the channel's confirmation, and
 * an 'exit' event emitted before anyone listens is lost. Fails with ChannelOpenError when the channel could not be
 * opened (the command did not start).
 */
export function openChannel<T>(
  client: Client,
  command: string,
  options: ExecOptions,
  use: (channel: ClientChannel) => Promise<T>
): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, options.pty ? { pty: { term: 'dumb', rows: 24, cols: 200 } } : {}, (error, channel) => {
        if (error) reject(new ChannelOpenError(error));
        else use(channel).then(resolve, reject);
      });
    } catch (error) {
      reject(new ChannelOpenError(error));
    }
  });
}

/**
 * Runs the command of an open channel to its end. A channel that closes without an exit status (the connection
 * dropped) ends with `code: null`: the answer was lost.
 */
export function runOnChannel(channel: ClientChannel, program: string, options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let code: number | null = null;
    let signal: string | undefined;
    let settled = false;
    const prompts = [...(options.prompts ?? [])];
    let unanswered = '';

    const finish = (error?: MailopsError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
    };
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    const timer = setTimeout(() => {
      channel.signal('KILL');
      channel.close();
      finish(
        failedError(
          'host-command-timeout',
          `${program} on the mail host did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped.`,
          { hint: 'The host may be overloaded or the command stuck; check it over SSH and try again.' }
        )
      );
    }, timeoutMs);

    const collect = (target: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxOutputBytes) {
        channel.close();
        finish(failedError('host-output-too-large', `${program} on the mail host printed more than ${maxOutputBytes} bytes.`));
        return;
      }
      target.push(chunk);
    };
    channel.on('data', collect(stdout));
    channel.stderr.on('data', collect(stderr));
    if (prompts.length > 0) {
      channel.on('data', (chunk: Buffer) => {
        unanswered += chunk.toString('utf8');
        const next = prompts[0];
        if (next && next.when.test(unanswered)) {
          prompts.shift();
          unanswered = '';
          channel.write(`${next.answer}\n`);
        }
      });
    }
    channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
      code = exitCode;
      signal = exitSignal ?? undefined;
    });
    channel.on('close', () => finish());
    channel.on('error', (error: Error) =>
      finish(failedError('host-channel-failed', `The SSH channel for ${program} failed: ${error.message}.`, { cause: error }))
    );

    if (options.stdin !== undefined) channel.end(options.stdin);
    else if (!options.pty) channel.end();
  });
}
