// Log lines for a person at a terminal: `mailops: warning: …` instead of JSON. Used when LOG_LEVEL is not set;
// with LOG_LEVEL set, the CLI writes pino's JSON lines as the bot does. Lines arrive here already redacted.

import { Writable } from 'node:stream';

const levelNames: Record<number, string> = { 60: 'fatal', 50: 'error', 40: 'warning', 30: 'info', 20: 'debug', 10: 'trace' };

export function humanLogStream(output: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk
        .toString()
        .split('\n')
        .filter((text) => text.trim() !== '')) {
        try {
          const record = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
          const detail = record.err?.message ? ` (${record.err.message})` : '';
          output.write(`mailops: ${levelNames[record.level ?? 30] ?? 'log'}: ${record.msg ?? ''}${detail}\n`);
        } catch {
          output.write(`${line}\n`);
        }
      }
      callback();
    },
  });
}
