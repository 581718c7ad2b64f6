// Reading a secret from standard input (`--password-stdin`): the first line only, without its line ending.

import { usageError } from '../errors.ts';

const maxBytes = 4096;

export function readFirstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const finish = (result: () => void) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.pause?.();
      result();
    };
    const onData = (chunk: Buffer | string) => {
      buffer += chunk.toString();
      const newline = buffer.indexOf('\n');
      if (newline !== -1) finish(() => resolve(buffer.slice(0, newline).replace(/\r$/, '')));
      else if (buffer.length > maxBytes)
        finish(() =>
          reject(
            usageError(
              'password-too-long',
              'The first line of standard input is too long to be a password.',
              'Give the password on one line.'
            )
          )
        );
    };
    const onEnd = () =>
      finish(() =>
        buffer === ''
          ? reject(
              usageError(
                'password-missing',
                '--password-stdin was given, but standard input was empty.',
                'Pipe the password in, e.g. printf "%s\\n" "$PASSWORD" | mailops user-add …'
              )
            )
          : resolve(buffer.replace(/\r?\n?$/, ''))
      );
    const onError = (error: Error) => finish(() => reject(error));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.resume?.();
  });
}
