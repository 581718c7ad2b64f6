// mailops-host run directly, for mailops running on the mail host itself (MAIL_HOST=local).
//
// As root, mailops runs the project's copy of the script with /bin/sh, exactly as the SSH transport does as root
// (shell mode). As any other user it runs the copy deploy/host-setup.sh installed, through the sudo rule host-setup.sh
// wrote for its user: `sudo -n <prefix>/mailops-host --encoded WORD...` (restricted mode) — the same command the
// forced command of the SSH key runs, so the same settings file (/etc/mailops-host/<user>.conf) and the same rules
// apply. mailops must then run as the user host-setup.sh created. Its first call asks `hello`, which checks that sudo
// lets it in and that the installed copy is this version's.
//
// The program is started without a shell, its words an argument vector; uploads go to its standard input and never
// into an argument (the process list is readable by every user). It runs in a process group of its own, with an
// environment of nothing but PATH: the bot's secrets stay in the bot. A timeout stops the group with SIGTERM, which
// sudo passes on to mailops-host, and which an `apply` whose upload is complete ignores so that it finishes its renames
// (no SIGKILL follows: that would cut a change in half, as a dropped SSH connection never does).
// A local call cannot lose its connection, but its process can be killed: it then ends with `code: null`, the lost
// answer of transport.ts, and the lock and atomic writes ask the host what happened, as after a dropped connection.

import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { Semaphore } from 'async-mutex';
import { failedError, type MailopsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { encodeWord, helloWords, restrictedHello, shellArgv } from './host-program.ts';
import {
  defaultTimeoutMs,
  Facts,
  maxOutputBytes,
  type CallOptions,
  type ExecResult,
  type HostMode,
  type HostTransport,
} from './transport.ts';

export interface LocalSettings {
  /** The mailops-host that deploy/host-setup.sh installed (its --prefix), run through sudo when mailops is not root. */
  program: string;
}

/** PATH for mailops-host when mailops has none (sudo replaces it in restricted mode anyway). */
const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** As many programs at once as the SSH transport runs channels. */
const maxRunning = 6;

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.geteuid?.() ?? '?'}`;
  }
}

export class LocalTransport implements HostTransport {
  readonly settings: LocalSettings;
  readonly #logger: Logger;
  readonly #facts = new Facts();
  readonly #running = new Semaphore(maxRunning);
  readonly #root = process.geteuid?.() === 0;
  readonly #user = currentUser();

  constructor(settings: LocalSettings, logger: Logger) {
    this.settings = settings;
    this.#logger = logger.child({ host: this.label });
  }

  get label(): string {
    return this.#root ? 'local (as root)' : `local (as ${this.#user}, through sudo)`;
  }

  mode(): Promise<HostMode> {
    return this.#facts.once('host-mode', async () => {
      if (this.#root) return 'shell';
      const reply = await this.#run(this.#restrictedArgv(helloWords), {});
      if (reply.code !== 0) throw this.#sudoRefused(reply);
      const mode = restrictedHello(reply.stdout);
      if (mode === undefined) {
        throw failedError('host-helper-unknown', `${this.settings.program}, run through sudo, did not answer as mailops-host does.`, {
          hint: 'Set MAIL_HOST=local:PATH to the mailops-host that deploy/host-setup.sh installed (PREFIX/mailops-host).',
        });
      }
      this.#logger.debug({ program: this.settings.program }, 'mailops-host reached through sudo');
      return mode;
    });
  }

  async call(words: readonly string[], options: CallOptions = {}): Promise<ExecResult> {
    const argv = (await this.mode()) === 'restricted' ? this.#restrictedArgv(words) : shellArgv(words, '/bin/sh');
    return this.#run(argv, options);
  }

  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    return this.#facts.once(key, compute);
  }

  /** Nothing stays open between calls; a call still running finishes on its own. */
  async close(): Promise<void> {}

  #restrictedArgv(words: readonly string[]): string[] {
    return ['sudo', '-n', '--', this.settings.program, '--encoded', ...words.map(encodeWord)];
  }

  #sudoRefused(reply: ExecResult): MailopsError {
    const detail = reply.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300) || `exit status ${reply.code ?? reply.signal}`;
    return failedError(
      'host-sudo-refused',
      `mailops runs as ${this.#user}, which could not run ${this.settings.program} as root through sudo: ${detail}.`,
      {
        hint: `Run mailops as root, or as the user deploy/host-setup.sh created on this host (run it as root: sh deploy/host-setup.sh --key-file KEY.pub); with host-setup.sh --prefix DIR, set MAIL_HOST=local:DIR/mailops-host.`,
      }
    );
  }

  #run(argv: readonly string[], options: CallOptions): Promise<ExecResult> {
    return this.#running.runExclusive(() => this.#spawn(argv, options));
  }

  #spawn(argv: readonly string[], options: CallOptions): Promise<ExecResult> {
    const [command = '', ...args] = argv;
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: '/',
        env: { PATH: process.env.PATH || systemPath },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let size = 0;
      let settled = false;

      const stop = () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Gone already.
        }
      };
      const finish = (outcome: ExecResult | MailopsError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
      const timer = setTimeout(() => {
        stop();
        finish(
          failedError('host-command-timeout', `mailops-host did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped.`, {
            hint: 'The host may be overloaded or the command stuck; look for a hanging mailops-host in the process list and try again.',
          })
        );
      }, timeoutMs);

      const collect = (target: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxOutputBytes) {
          stop();
          finish(failedError('host-output-too-large', `mailops-host printed more than ${maxOutputBytes} bytes.`));
          return;
        }
        target.push(chunk);
      };
      child.stdout.on('data', collect(stdout));
      child.stderr.on('data', collect(stderr));
      child.on('error', (error: NodeJS.ErrnoException) => finish(this.#startError(command, error)));
      child.on('close', (code, signal) => {
        finish({ code, signal: signal ?? undefined, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
      });
      // A program that exits without reading all of its input (a refusal) closes the pipe: not our failure.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin);
    });
  }

  #startError(command: string, error: NodeJS.ErrnoException): MailopsError {
    if (error.code === 'ENOENT' && command === 'sudo') {
      return failedError(
        'host-sudo-missing',
        `mailops runs as ${this.#user}, not root, and needs sudo to run mailops-host, but sudo is not installed.`,
        { hint: 'Install sudo (apt-get install sudo) and run deploy/host-setup.sh as root, or run mailops as root.', cause: error }
      );
    }
    return failedError('host-program-failed', `Could not start ${command} to run mailops-host: ${error.message}.`, {
      hint: 'Check that this machine is the mail host and that PATH reaches the system programs.',
      cause: error,
    });
  }
}
