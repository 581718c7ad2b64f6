// One SSH connection to the mail host, opened on first use and reused by every operation after it.
//
// The server must show a host key that SSH_KNOWN_HOSTS_FILE lists for this host; anything else is refused before a
// single byte of ours is sent, with the offered fingerprint in the message. When the connection drops (the server
// restarted, a network blip, an idle timeout), the next command opens a new one; a command whose channel could not
// even be opened because the connection was already gone is retried once on the new connection — it never started,
// so running it is not running it twice. Commands are argument vectors, quoted in exactly one place (quote.ts).

import { readFile } from 'node:fs/promises';
import { Semaphore } from 'async-mutex';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { SshTarget } from '../config.ts';
import { failedError, MailopsError, usageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { fingerprint, hostKeyAlgorithms, knownHostsName, keyTypeOf, parseKnownHosts, verifyHostKey, type HostKeyVerdict } from './known-hosts.ts';
import { commandLine } from './quote.ts';

export interface SshSettings {
  target: SshTarget;
  privateKeyFile: string;
  knownHostsFile: string;
  /** How long to wait for the TCP connection and SSH handshake. */
  connectTimeoutMs?: number;
}

export interface Prompt {
  /** Output (on a pty: the terminal) that asks for something. */
  when: RegExp;
  /** What to type, followed by a newline. */
  answer: string;
}

export interface ExecOptions {
  /** Written to the command's standard input, which is then closed. Without it, standard input is closed at once. */
  stdin?: string | Buffer;
  /** The command is killed and the call fails after this long (default 60 s). */
  timeoutMs?: number;
  /** Allocate a pseudo-terminal (for programs that only prompt on a terminal). */
  pty?: boolean;
  /** Answers to prompts, each given once, in order. Only meaningful with `pty`. */
  prompts?: Prompt[];
}

export interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: Buffer;
  stderr: string;
}

const defaultTimeoutMs = 60_000;
/**
 * OpenSSH allows 10 sessions per connection (MaxSessions), and counts sessions that are still closing; stay well
 * below it (the lock's channel is one of ours).
 */
const maxChannels = 6;
const maxOutputBytes = 64 * 1024 * 1024;

/** The remote command did not run to completion as expected; carries its output for the caller's message. */
export class RemoteCommandError extends MailopsError {
  readonly result: ExecResult;
  constructor(program: string, result: ExecResult, hint?: string) {
    const detail = result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
    const status = result.code === null ? `was killed (${result.signal ?? 'no exit status'})` : `exited with status ${result.code}`;
    super('failed', 'remote-command-failed', `${program} on the mail host ${status}${detail ? `: ${detail}` : '.'}`,
      hint === undefined ? {} : { hint });
    this.result = result;
  }
}

/** The channel for a command could not be opened: the command did not start. */
class ChannelOpenError extends Error {
  /** The connection itself is gone (rather than the server declining one more channel). */
  readonly connectionLost: boolean;
  constructor(cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(message, { cause });
    this.connectionLost = /Not connected|No response from server|socket|ECONNRESET|EPIPE/i.test(message);
  }
}

export class SshConnection {
  readonly settings: SshSettings;
  readonly #logger: Logger;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #generation = 0;
  #memo = new Map<string, Promise<unknown>>();
  readonly #channels = new Semaphore(maxChannels);

  constructor(settings: SshSettings, logger: Logger) {
    this.settings = settings;
    this.#logger = logger.child({ host: this.label });
  }

  /** `user@host:port`, for messages. */
  get label(): string {
    const { user, host, port } = this.settings.target;
    return `${user}@${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** Counts connections opened so far; a new number means a new connection (tests and once-per-connection facts). */
  get generation(): number {
    return this.#generation;
  }

  /**
   * A fact about the host computed once per connection (the chasquid version, say): a reconnect may mean the host
   * was upgraded or replaced, so it is computed again after one.
   */
  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let value = this.#memo.get(key) as Promise<T> | undefined;
    if (value === undefined) {
      value = compute();
      this.#memo.set(key, value);
      value.catch(() => this.#memo.delete(key));
    }
    return value;
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const command = commandLine(argv);
    return this.#channels.runExclusive(() => this.#exec(command, argv[0] ?? '', options));
  }

  #exec(command: string, program: string, options: ExecOptions): Promise<ExecResult> {
    return this.#openWithRetry(command, options, (channel) => this.#run(channel, program, options));
  }

  /** Runs `argv` and fails with the command's own error output unless it exits with status 0. */
  async execOk(argv: readonly string[], options: ExecOptions = {}, hint?: string): Promise<ExecResult> {
    const result = await this.exec(argv, options);
    if (result.code !== 0) throw new RemoteCommandError(argv[0] ?? 'command', result, hint);
    return result;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#connecting = undefined;
    if (!client) return;
    await new Promise<void>((resolve) => {
      client.once('close', () => resolve());
      client.end();
      setTimeout(resolve, 1000).unref();
    });
  }

  #drop(client: Client): void {
    if (this.#client === client) this.#client = undefined;
    client.destroy();
  }

  #connected(): Promise<Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => { this.#connecting = undefined; });
    return this.#connecting;
  }

  async #connect(): Promise<Client> {
    const { target, privateKeyFile, knownHostsFile } = this.settings;
    const privateKey = await readSetting(privateKeyFile, 'SSH_KEY_FILE', 'the private key mailops logs in with');
    const knownHosts = parseKnownHosts((await readSetting(knownHostsFile, 'SSH_KNOWN_HOSTS_FILE', 'the known host keys')).toString('utf8'));
    const name = knownHostsName(target.host, target.port);
    const algorithms = hostKeyAlgorithms(knownHosts, name);
    let verdict: HostKeyVerdict | undefined;
    let offered: Buffer | undefined;

    const client = new Client();
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey,
      readyTimeout: this.settings.connectTimeoutMs ?? 15_000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        offered = key;
        verdict = verifyHostKey(knownHosts, name, key);
        return verdict.status === 'trusted';
      },
      ...(algorithms.length > 0 ? { algorithms: { serverHostKey: algorithms as never } } : {}),
    };

    await new Promise<void>((resolve, reject) => {
      const settle = () => {
        client.off('ready', onReady);
        client.off('error', onError);
        client.off('close', onClose);
      };
      const onError = (error: Error & { level?: string }) => {
        settle();
        // This client is given up. Its socket may still fail later ("Connection lost before handshake" once a hung
        // server goes away): with no listener left, that error would be thrown and end the process.
        client.on('error', () => undefined);
        client.destroy();
        reject(this.#connectError(error, verdict, offered, name));
      };
      // The server may hang up during the handshake without an error event (sshd killed, MaxStartups).
      const onClose = () => onError(new Error('the connection was closed during the SSH handshake'));
      const onReady = () => {
        settle();
        resolve();
      };
      client.once('ready', onReady);
      client.once('error', onError);
      client.once('close', onClose);
      try {
        client.connect(config);
        // Without this, Nagle's algorithm and delayed ACKs add ~40 ms to every round trip of the protocol
        // (two per command): a command would cost 90 ms instead of 3.
        client.setNoDelay(true);
      } catch (error) {
        onError(error as Error);
      }
    });

    client.on('error', (error) => this.#logger.warn({ err: error }, 'SSH connection error'));
    client.on('close', () => {
      if (this.#client === client) {
        this.#logger.info('SSH connection closed');
        this.#client = undefined;
      }
    });
    this.#client = client;
    this.#generation += 1;
    this.#memo.clear();
    this.#logger.debug({ generation: this.#generation }, 'SSH connection ready');
    return client;
  }

  #connectError(error: Error & { level?: string }, verdict: HostKeyVerdict | undefined, offered: Buffer | undefined, name: string): MailopsError {
    const where = this.label;
    if (verdict && verdict.status !== 'trusted' && offered) {
      const shown = `${keyTypeOf(offered) ?? 'key'} ${fingerprint(offered)}`;
      if (verdict.status === 'changed') {
        return failedError('host-key-changed',
          `The host key of ${where} changed: it offered ${shown}, but SSH_KNOWN_HOSTS_FILE has ${verdict.knownFingerprints.join(', ')} for ${name}.`,
          { hint: 'If you replaced the server or its keys, update SSH_KNOWN_HOSTS_FILE; otherwise do not connect — someone may be intercepting the connection.' });
      }
      if (verdict.status === 'revoked') {
        return failedError('host-key-revoked', `The host key ${shown} offered by ${where} is marked @revoked in SSH_KNOWN_HOSTS_FILE.`,
          { hint: 'Do not connect until the host has a new key; then add that key to SSH_KNOWN_HOSTS_FILE.' });
      }
      return failedError('host-key-unknown', `The host key of ${where} is not in SSH_KNOWN_HOSTS_FILE (it offered ${shown} for ${name}).`,
        { hint: `Compare that fingerprint with "ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub" on the host, then add the host's line (ssh-keyscan -p ${this.settings.target.port} ${this.settings.target.host}) to SSH_KNOWN_HOSTS_FILE.` });
    }
    const message = error.message;
    if (error.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
      return failedError('ssh-auth-failed', `The mail host ${where} refused the key in SSH_KEY_FILE.`,
        { hint: `Add the matching public key to ~${this.settings.target.user}/.ssh/authorized_keys on the host, or fix SSH_KEY_FILE.`, cause: error });
    }
    if (/privateKey|private key|Cannot parse/i.test(message)) {
      return usageError('ssh-key-invalid', `SSH_KEY_FILE does not hold a usable private key (${message}).`,
        'Use an unencrypted OpenSSH or PEM private key (ed25519, ECDSA or RSA), e.g. made with ssh-keygen -t ed25519 -N "".');
    }
    if (/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|Timed out|closed during the SSH handshake/i.test(message)) {
      return failedError('host-unreachable', `Cannot connect to the mail host ${where}: ${message}.`,
        { hint: 'Check MAIL_HOST, that sshd is running on the host and that the port is open to this machine.', cause: error });
    }
    return failedError('ssh-failed', `The SSH connection to ${where} failed: ${message}.`,
      { hint: 'Check MAIL_HOST and that sshd is running on the host.', cause: error });
  }

  /**
   * Opens a channel, coping with the two ways that fails without the command having started: the connection died
   * (open a new one), or the server refused a channel for now (sshd's MaxSessions counts sessions that are still
   * closing) — wait a moment and ask again.
   */
  async #openWithRetry<T>(command: string, options: ExecOptions, use: (channel: ClientChannel) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const client = await this.#connected();
      try {
        return await this.#openChannel(client, command, options, use);
      } catch (error) {
        if (!(error instanceof ChannelOpenError)) throw error;
        if (attempt >= 6) {
          throw failedError('host-channel-refused', `The mail host ${this.label} refused to run a command: ${error.message}.`,
            { hint: 'Check sshd on the host (MaxSessions, ForceCommand, the user\'s shell) and try again.', cause: error });
        }
        this.#logger.debug({ err: error, attempt }, 'could not open an SSH channel; retrying');
        if (error.connectionLost) this.#drop(client);
        else await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      }
    }
  }

  /**
   * Opens a session channel running `command` and hands it to `use` synchronously, inside ssh2's callback: a fast
   * command's output, exit status and close can arrive in the same packet batch as the channel's confirmation, and
   * an 'exit' event emitted before anyone listens is lost.
   */
  #openChannel<T>(client: Client, command: string, options: ExecOptions, use: (channel: ClientChannel) => Promise<T>): Promise<T> {
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

  #run(channel: ClientChannel, program: string, options: ExecOptions): Promise<ExecResult> {
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
        finish(failedError('host-command-timeout', `${program} on the mail host did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped.`,
          { hint: 'The host may be overloaded or the command stuck; check it over SSH and try again.' }));
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
      channel.on('error', (error: Error) => finish(failedError('host-channel-failed', `The SSH channel for ${program} failed: ${error.message}.`, { cause: error })));

      if (options.stdin !== undefined) channel.end(options.stdin);
      else if (!options.pty) channel.end();
    });
  }
}

async function readSetting(file: string, variable: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw usageError('setting-file-unreadable', `${variable} (${what}) cannot be read from ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      `Check the path in ${variable} and that mailops may read the file.`);
  }
}
