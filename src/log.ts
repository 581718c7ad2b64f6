// Structured logs (pino, JSON lines) that never carry a secret.
//
// Three layers, because one is never enough:
//   1. redact paths: fields named like secrets (password, token, secret, privateKey, authorization, the secret
//      variables) are replaced wherever they sit in the first levels of a log object;
//   2. the error serializer keeps type, code, message, hint and stack (and the cause chain), nothing else: an error
//      object can carry a request, a config or a buffer, and none of that belongs in a log;
//   3. a last pass over every finished line replaces each known secret value (configured tokens and keys, passwords
//      mailops generated or was given) and any PEM private key block, however it got there — an error message from a
//      library that quotes its input, a command line, a stack trace.

import type { Writable } from 'node:stream';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

const redactedWord = '[REDACTED]';

const secretFieldNames = [
  'password',
  'newPassword',
  'token',
  'secret',
  'privateKey',
  'private_key',
  'authorization',
  'Authorization',
  'DISCORD_TOKEN',
  'RFC2136_TSIG',
  'CLOUDFLARE_API_TOKEN',
  'tsig',
  'accountKey',
  'key',
];

const redactPaths = secretFieldNames.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]);

/** The secret values the final pass replaces. Add every secret as soon as mailops knows it. */
export class Redactor {
  readonly #secrets = new Set<string>();

  add(secret: string | Buffer | undefined): void {
    if (secret === undefined) return;
    const text = Buffer.isBuffer(secret) ? secret.toString('base64') : secret;
    // Very short values would replace innocent text everywhere; mailops never makes secrets that short.
    if (text.length < 6) return;
    this.#secrets.add(text);
    // The same value as it appears inside a JSON string.
    this.#secrets.add(JSON.stringify(text).slice(1, -1));
  }

  scrub(line: string): string {
    let result = line.replace(/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, `${redactedWord} private key`);
    result = result.replace(/(--password=)[^\s"\\]+/g, `$1${redactedWord}`);
    result = result.replace(/(Bot )[A-Za-z0-9._-]{20,}/g, `$1${redactedWord}`);
    for (const secret of this.#secrets) {
      if (result.includes(secret)) result = result.split(secret).join(redactedWord);
    }
    return result;
  }
}

interface SerializedError {
  type: string;
  code?: string;
  message: string;
  hint?: string;
  stack?: string;
  cause?: SerializedError;
}

function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const fields = error as Error & { code?: unknown; hint?: unknown };
  const serialized: SerializedError = { type: error.name, message: error.message };
  if (typeof fields.code === 'string' || typeof fields.code === 'number') serialized.code = String(fields.code);
  if (typeof fields.hint === 'string') serialized.hint = fields.hint;
  if (error.stack !== undefined) serialized.stack = error.stack;
  if (error.cause !== undefined && depth < 3) serialized.cause = serializeError(error.cause, depth + 1);
  return serialized;
}

export interface LoggerOptions {
  level: string;
  redactor: Redactor;
  /** Where lines go; standard error by default, so that standard output stays free for results. */
  destination?: Writable | DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level: options.level,
      base: { app: 'mailops' },
      redact: { paths: redactPaths, censor: redactedWord },
      serializers: { err: serializeError, error: serializeError },
      hooks: {
        streamWrite: (line: string) => options.redactor.scrub(line),
      },
    },
    destination
  );
}
