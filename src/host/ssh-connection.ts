// One SSH connection to the mail host, opened on first use and reused by every operation after it.
//
// The server must show a host key that SSH_KNOWN_HOSTS_FILE lists for this host; anything else is refused before a
// single byte of ours is sent, with the offered fingerprint in the message (ssh-errors.ts). When the connection drops
// (the server restarted, a network blip, an idle timeout), the next command opens a new one; a command whose channel
// could not even be opened because the connection was already gone is retried on the new connection — it never
// started, so running it is not running it twice. Commands are argument vectors, quoted in exactly one place
// (quote.ts), each run on a channel of its own (ssh-channel.ts).

import { Semaphore } from 'async-mutex';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { SshTarget } from '../config.ts';
import type { Logger } from '../log.ts';
import { hostKeyAlgorithms, knownHostsName, parseKnownHosts, verifyHostKey, type HostKeyVerdict } from './known-hosts.ts';
import { commandLine } from './quote.ts';
import { openChannel, runOnChannel, type ExecOptions } from './ssh-channel.ts';
import { ChannelOpenError, channelRefusedError, connectError, readSettingFile, sshLabel } from './ssh-errors.ts';
import { Facts, RemoteCommandError, type ExecResult } from './transport.ts';

export interface SshSettings {
  target: SshTarget;
  privateKeyFile: string;
  knownHostsFile: string;
  /** How long to wait for the TCP connection and SSH handshake. */
  connectTimeoutMs?: number;
}

/**
 * OpenSSH allows 10 sessions per connection (MaxSessions), and counts sessions that are still closing; stay well
 * below it (the lock's channel is one of ours).
 */
const maxChannels = 6;

export class SshConnection {
  readonly settings: SshSettings;
  readonly #logger: Logger;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #generation = 0;
  readonly #facts = new Facts();
  readonly #channels = new Semaphore(maxChannels);

  constructor(settings: SshSettings, logger: Logger) {
    this.settings = settings;
    this.#logger = logger.child({ host: this.label });
  }

  /** `user@host:port`, for messages. */
  get label(): string {
    return sshLabel(this.settings.target);
  }

  /** Counts connections opened so far; a new number means a new connection (tests and once-per-connection facts). */
  get generation(): number {
    return this.#generation;
  }

  /** A fact about the host computed once per connection (see HostTransport.once). */
  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    return this.#facts.once(key, compute);
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const command = commandLine(argv);
    const program = argv[0] ?? '';
    return this.#channels.runExclusive(() => this.#openWithRetry(command, options, (channel) => runOnChannel(channel, program, options)));
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
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<Client> {
    const { target, privateKeyFile, knownHostsFile } = this.settings;
    const privateKey = await readSettingFile(privateKeyFile, 'SSH_KEY_FILE', 'the private key mailops logs in with');
    const knownHosts = parseKnownHosts(
      (await readSettingFile(knownHostsFile, 'SSH_KNOWN_HOSTS_FILE', 'the known host keys')).toString('utf8')
    );
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
        reject(connectError(target, error, { verdict, offered, name }));
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
    this.#facts.clear();
    this.#logger.debug({ generation: this.#generation }, 'SSH connection ready');
    return client;
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
        return await openChannel(client, command, options, use);
      } catch (error) {
        if (!(error instanceof ChannelOpenError)) throw error;
        if (attempt >= 6) throw channelRefusedError(this.label, error);
        this.#logger.debug({ err: error, attempt }, 'could not open an SSH channel; retrying');
        if (error.connectionLost) this.#drop(client);
        else await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      }
    }
  }
}
