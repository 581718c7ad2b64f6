// What can go wrong with SSH before a command runs, said for an operator: a host key that is not the pinned one, a
// refused login key, an unreadable setting file, a host that cannot be reached, a channel the server would not open.

import { readFile } from 'node:fs/promises';
import type { SshTarget } from '../config.ts';
import { failedError, type MailopsError, usageError } from '../errors.ts';
import { fingerprint, keyTypeOf, type HostKeyVerdict } from './known-hosts.ts';

/** `user@host:port`, for messages. */
export function sshLabel(target: SshTarget): string {
  const { user, host, port } = target;
  return `${user}@${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** What the host-key check saw during a failed handshake, if it got that far. */
export interface HandshakeSeen {
  verdict: HostKeyVerdict | undefined;
  offered: Buffer | undefined;
  /** The host's name as known_hosts spells it (`[host]:port` for another port than 22). */
  name: string;
}

/** The error an operator sees for a connection that could not be made. */
export function connectError(target: SshTarget, error: Error & { level?: string }, seen: HandshakeSeen): MailopsError {
  const where = sshLabel(target);
  const { verdict, offered, name } = seen;
  if (verdict && verdict.status !== 'trusted' && offered) {
    const shown = `${keyTypeOf(offered) ?? 'key'} ${fingerprint(offered)}`;
    if (verdict.status === 'changed') {
      return failedError(
        'host-key-changed',
        `The host key of ${where} changed: it offered ${shown}, but SSH_KNOWN_HOSTS_FILE has ${verdict.knownFingerprints.join(', ')} for ${name}.`,
        {
          hint: 'If you replaced the server or its keys, update SSH_KNOWN_HOSTS_FILE; otherwise do not connect — someone may be intercepting the connection.',
        }
      );
    }
    if (verdict.status === 'revoked') {
      return failedError('host-key-revoked', `The host key ${shown} offered by ${where} is marked @revoked in SSH_KNOWN_HOSTS_FILE.`, {
        hint: 'Do not connect until the host has a new key; then add that key to SSH_KNOWN_HOSTS_FILE.',
      });
    }
    return failedError('host-key-unknown', `The host key of ${where} is not in SSH_KNOWN_HOSTS_FILE (it offered ${shown} for ${name}).`, {
      hint: `Compare that fingerprint with "ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub" on the host, then add the host's line (ssh-keyscan -p ${target.port} ${target.host}) to SSH_KNOWN_HOSTS_FILE.`,
    });
  }
  const message = error.message;
  if (error.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return failedError('ssh-auth-failed', `The mail host ${where} refused the key in SSH_KEY_FILE.`, {
      hint: `Add the matching public key to ~${target.user}/.ssh/authorized_keys on the host, or fix SSH_KEY_FILE.`,
      cause: error,
    });
  }
  if (/privateKey|private key|Cannot parse/i.test(message)) {
    return usageError(
      'ssh-key-invalid',
      `SSH_KEY_FILE does not hold a usable private key (${message}).`,
      'Use an unencrypted OpenSSH or PEM private key (ed25519, ECDSA or RSA), e.g. made with ssh-keygen -t ed25519 -N "".'
    );
  }
  if (/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|Timed out|closed during the SSH handshake/i.test(message)) {
    return failedError('host-unreachable', `Cannot connect to the mail host ${where}: ${message}.`, {
      hint: 'Check MAIL_HOST, that sshd is running on the host and that the port is open to this machine.',
      cause: error,
    });
  }
  return failedError('ssh-failed', `The SSH connection to ${where} failed: ${message}.`, {
    hint: 'Check MAIL_HOST and that sshd is running on the host.',
    cause: error,
  });
}

/** The channel for a command could not be opened: the command did not start. */
export class ChannelOpenError extends Error {
  /** The connection itself is gone (rather than the server declining one more channel). */
  readonly connectionLost: boolean;
  constructor(cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(message, { cause });
    this.connectionLost = /Not connected|No response from server|socket|ECONNRESET|EPIPE/i.test(message);
  }
}

/** The channel kept being refused: the command never ran. */
export function channelRefusedError(label: string, error: ChannelOpenError): MailopsError {
  return failedError('host-channel-refused', `The mail host ${label} refused to run a command: ${error.message}.`, {
    hint: "Check sshd on the host (MaxSessions, ForceCommand, the user's shell) and try again.",
    cause: error,
  });
}

/** Reads SSH_KEY_FILE or SSH_KNOWN_HOSTS_FILE, failing with a usage error that names the variable. */
export async function readSettingFile(file: string, variable: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw usageError(
      'setting-file-unreadable',
      `${variable} (${what}) cannot be read from ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      `Check the path in ${variable} and that mailops may read the file.`
    );
  }
}
