// The only place where an argument vector becomes a command line for the remote shell.
//
// SSH carries one command string, which the remote user's login shell parses. Every argument is wrapped in single
// quotes; inside single quotes a POSIX shell (sh, dash, bash, ksh, zsh) gives no character a special meaning, so `;`,
// `$( )`, backticks, double quotes, `*` and newlines all arrive literally. A single quote itself is closed, escaped
// and reopened ('\''). A leading `-` is not the shell's business: programs are called with `--` where they take
// options, and callers validate what they pass. NUL cannot be carried by a command string at all and is refused.
// Written by hand: it is four lines, and the libraries that do it aim at local shells with other escaping rules.

export class UnsafeArgumentError extends Error {
  constructor(index: number) {
    super(`Argument ${index} contains a NUL byte, which cannot be passed to a remote command.`);
    this.name = 'UnsafeArgumentError';
  }
}

/** One argument, quoted so that any POSIX shell reads it back as exactly the same string. */
export function shellQuote(argument: string): string {
  return `'${argument.replaceAll("'", "'\\''")}'`;
}

/** The command line that runs `argv` on the remote host, every element quoted. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('An empty argument vector cannot be run.');
  argv.forEach((argument, index) => {
    if (argument.includes('\0')) throw new UnsafeArgumentError(index);
  });
  return argv.map(shellQuote).join(' ');
}
