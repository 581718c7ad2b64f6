// The lab: a real mail host on loopback, started fresh for a test file and stopped after it.
//
// Inside one temporary directory, on free ports of 127.0.0.1:
//   - OpenSSH's sshd, logging in as root with a lab key; its host key is pinned in the lab's known_hosts;
//   - chasquid (the Debian 12 build, 1.11, or the Debian 13 build, 1.15), run as the `chasquid` user under a small
//     supervisor so that the lab's CHASQUID_RESTART behaves like `systemctl restart`; its MDA stores messages as files;
//   - Knot DNS, authoritative for the lab's zones, accepting RFC 2136 UPDATEs signed with the lab's TSIG key;
//   - with `outgoingSmtp`, chasquid's remote deliveries stay in the lab too (see LabOptions.outgoingSmtp);
//   - pebble, an ACME CA that validates DNS-01 challenges against that Knot (optional): Debian 12's 2.4 by default, or
//     Debian 13's 2.6, which serves ACME Renewal Information (ARI) and accepts `replaces`.
// It writes a `.env` that points mailops at all of it, and stops exactly the processes it started (each is the
// leader of its own process group). Several labs run side by side: nothing is shared but the binaries.
//
// With `transport: 'local'` mailops reaches the lab host as if it ran on it (MAIL_HOST=local, no SSH settings): the
// test process is then the mail host's user, so the lab puts its own PATH (chasquid of the chosen build first, as sshd
// gives SSH sessions) in front of this process's PATH until it stops. Tests of operations use it where SSH is not
// what they test.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MailHost } from '../../src/host/mail-host.ts';
import type { SshConnection } from '../../src/host/ssh-connection.ts';
import { SshTransport } from '../../src/host/ssh-transport.ts';
import { waitFor } from '../wait.ts';

const run = promisify(execFile);

export const repoRoot = path.resolve(import.meta.dirname, '../..');
/** The lab's scripts in the checkout; each lab runs copies of them (see `tools` in startLab). */
const labScripts = path.join(repoRoot, 'test/lab/bin');
/**
 * Where test/lab/packages.sh unpacks chasquid 1.15 and pebble 2.6: root-owned and outside the checkout, because the `chasquid` user
 * runs it, and a checkout may lie where only root can enter (root's home is 0700).
 */
export const labCache = '/var/cache/mailops-lab';

export type ChasquidBuild = '1.11' | '1.15';

/** pebble 2.4 (Debian 12, /usr/bin) or 2.6 (Debian 13, unpacked by packages.sh): 2.6 serves ACME Renewal Information. */
export type PebbleBuild = '2.4' | '2.6';

export interface LabOptions {
  /** Which chasquid: 1.11 (Debian 12) or 1.15 (Debian 13). Default 1.15. */
  chasquid?: ChasquidBuild;
  /** Domains served by the host and managed by mailops (MAIL_DOMAINS). The first one is the hostname's domain. */
  domains?: string[];
  /** Start Knot DNS (default true). */
  dns?: boolean;
  /** Start pebble (default false). */
  acme?: boolean;
  /** Which pebble, when `acme` (default 2.4, Debian 12's). */
  pebble?: PebbleBuild;
  /** Validity of the certificates pebble issues, in seconds (pebble's `certificateValidityPeriod`; default pebble's). */
  certificateValiditySeconds?: number;
  /** Zone files by zone name, replacing the default zone for that name (`$ORIGIN` is set for you). */
  zones?: Record<string, string>;
  /**
   * Install the lab's self-signed certificate for the hostname (default true). Without one — a fresh host — chasquid
   * does not start: the lab does not wait for it, and the supervisor keeps trying until a certificate is installed.
   */
  certificate?: boolean;
  /** Create domains/<domain>/ for each domain (default true), owned by root as on a fresh Debian host. */
  createDomainDirs?: boolean;
  /**
   * DKIM keys installed before chasquid starts, in the layout of the chosen build: 1.11 (post-data hook with dkimsign):
   * domains/<domain>/dkim_selector and certs/<domain>/dkim_privkey.pem (one per domain); 1.14+ (built in):
   * domains/<domain>/dkim:<selector>.pem. Owned by root, group chasquid, mode 0640, as mailops installs them.
   */
  dkimKeys?: Array<{ domain: string; selector: string; privateKeyPem: string }>;
  /**
   * How mailops reaches the host: over the lab's sshd as root (`ssh`, the default), or `local` — MAIL_HOST=local, as
   * when mailops runs on the mail host (see the top of this file). sshd runs either way.
   */
  transport?: 'ssh' | 'local';
  /**
   * Keeps chasquid's remote deliveries in the lab (default: off; chasquid then resolves with the machine's DNS and
   * connects to port 25, as on a real host). chasquid has no flag to change its resolver, so the lab runs it in a
   * mount namespace of its own where /etc/resolv.conf names the lab's Knot — which then also listens on port 53 of a
   * loopback address picked for this lab, as a resolv.conf cannot name a port — and connects to `port` on every MX
   * (chasquid's -testing__outgoing_smtp_port). Give the remote domains in `zones`, e.g. `remote.test` with
   * `@ MX 10 mx.remote.test.` and `mx A 127.0.0.1`. Needs `dns` (the default).
   */
  outgoingSmtp?: { port: number };
}

export interface Lab {
  dir: string;
  chasquid: ChasquidBuild;
  hostname: string;
  domains: string[];
  chasquidDir: string;
  /** Where the lab's MDA stores delivered messages: <mailDir>/<recipient>/<n>.eml */
  mailDir: string;
  envFile: string;
  env: Record<string, string>;
  ports: {
    ssh: number;
    smtp: number;
    submission: number;
    submissionTls: number;
    monitoring: number;
    dns: number;
    acme: number;
    acmeManagement: number;
  };
  /** With `outgoingSmtp`: the loopback address on whose port 53 Knot also answers, chasquid's only nameserver. */
  chasquidNameserver?: string;
  tsig: { name: string; algorithm: string; secret: string };
  /** Every TSIG key Knot accepts for UPDATEs: `tsig` (hmac-sha256) first, then hmac-sha384 and hmac-sha512 keys. */
  tsigKeys: Array<{ name: string; algorithm: string; secret: string }>;
  /** PEM of the CA that signed pebble's own HTTPS certificate (ACME_CA_FILE). */
  acmeCaFile: string;
  /** The uid/gid the chasquid daemon runs as. */
  daemon: { uid: number; gid: number };
  /** How the lab's .env has mailops reach the host (LabOptions.transport). */
  transport: 'ssh' | 'local';
  /** The mail host's PATH: what sshd gives SSH sessions, and what a local mailops runs mailops-host with. */
  hostPath: string;
  /** The lab's SSH client key (its public half beside it, `.pub`), also when MAIL_HOST is local. */
  sshKeyFile: string;
  /** Kills every SSH connection sshd is serving (sshd itself keeps listening). */
  dropSshConnections(): Promise<void>;
  /** Runs knotc against the lab's Knot. */
  knotc(...args: string[]): Promise<string>;
  /** The pid of the running chasquid. */
  chasquidPid(): number;
  /** The last lines pebble wrote to its log (empty without `acme`). */
  pebbleLog(): string;
  /** Stops chasquid (and its supervisor), as `systemctl stop chasquid` would. */
  stopChasquid(): Promise<void>;
  /** Starts chasquid again after stopChasquid; resolves once it listens. */
  startChasquid(): Promise<void>;
  /** Lines chasquid wrote to its log so far. */
  chasquidLog(): string;
  /**
   * Makes the next run of CHASQUID_RESTART misbehave: `stays-down` stops chasquid, keeps it down and fails (as a
   * daemon that does not come back); `does-nothing` succeeds without restarting (the old certificate stays served).
   * The restart after that works again.
   */
  breakNextRestart(how: 'stays-down' | 'does-nothing'): void;
  /**
   * Revokes TSIG keys in Knot (by name): they are removed from its configuration and Knot reloads it, so that UPDATEs
   * signed with them are refused (BADKEY). `restoreTsigKeys` puts every key back.
   */
  revokeTsigKeys(...names: string[]): Promise<void>;
  restoreTsigKeys(): Promise<void>;
  stop(): Promise<void>;
}

const packageUser = (name: string): { uid: number; gid: number } => {
  const passwd = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`${name}:`));
  if (!passwd) throw new Error(`lab: the system user "${name}" does not exist; run test/lab/packages.sh as root`);
  const [, , uid, gid] = passwd.split(':');
  return { uid: Number(uid), gid: Number(gid) };
};

/** The lowest port the kernel hands out to outgoing connections (net.ipv4.ip_local_port_range). */
function ephemeralPortsStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function tryListen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * Ports for the lab's servers, free on 127.0.0.1 right now. They are chosen below the kernel's ephemeral range: a port
 * that the kernel may give to any outgoing connection (and busy tests make thousands) could be taken between our
 * check and the server's start; below the range only another lab could take it, and labs pick at random.
 */
export async function freePorts(count: number): Promise<number[]> {
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralPortsStart() - 1);
  const held: net.Server[] = [];
  while (held.length < count) {
    const candidate = low + Math.floor(Math.random() * (high - low));
    if (held.some((server) => (server.address() as net.AddressInfo).port === candidate)) continue;
    const server = await tryListen(candidate);
    if (server) held.push(server);
  }
  const ports = held.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** The first directory enclosing `dir` that other users cannot enter (no search permission for others), if any. */
export function enclosingDirectoryClosedToOthers(dir: string): string | undefined {
  for (let parent = path.dirname(dir); ; parent = path.dirname(parent)) {
    if ((statSync(parent).mode & 0o001) === 0) return parent;
    if (parent === path.dirname(parent)) return undefined;
  }
}

/** Waits until a lab server answers; fails with its log. A check that throws counts as "not yet". */
async function waitUntilUp(what: string, check: () => Promise<boolean>, timeoutMs: number, diagnostics: () => string): Promise<void> {
  await waitFor(`lab: ${what}`, () => check().catch(() => false), { timeoutMs, intervalMs: 15, diagnostics });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function udpPortFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, address, () => socket.close(() => resolve(true)));
  });
}

/**
 * A loopback address (127.0.0.0/8 is all loopback on Linux) whose DNS port is free, for the Knot that a lab's chasquid
 * resolves with. Random, so that labs running side by side do not pick the same one; never 127.0.0.x, where the
 * machine's own resolvers live (127.0.0.53 and the like).
 */
async function freeNameserverAddress(): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const address = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 250)}`;
    if ((await udpPortFree(address, 53)) && (await tcpPortFree(address, 53))) return address;
  }
  throw new Error('lab: no loopback address with a free port 53 found for the Knot that chasquid resolves with');
}

function tcpPortFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, address, () => server.close(() => resolve(true)));
  });
}

function defaultZone(zone: string, hostname: string, dns: boolean): string {
  const lines = [
    `$ORIGIN ${zone}.`,
    '$TTL 60',
    `@ SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 60`,
    `@ NS ns1.${zone}.`,
    'ns1 A 127.0.0.1',
    `@ MX 10 ${hostname}.`,
    `@ TXT "v=spf1 mx -all"`,
    `_dmarc TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@${zone}"`,
  ];
  if (hostname.endsWith(`.${zone}`)) lines.push(`${hostname}. A 127.0.0.1`);
  return dns ? `${lines.join('\n')}\n` : '';
}

const reverseZone = (hostname: string) =>
  [
    '$ORIGIN 127.in-addr.arpa.',
    '$TTL 60',
    '@ SOA ns1.lab. hostmaster.lab. 1 3600 600 86400 60',
    '@ NS ns1.lab.',
    `1.0.0 PTR ${hostname}.`,
    '',
  ].join('\n');

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** The SSH connection of a mail host reached over SSH, for tests that run commands of their own on it. */
export function sshConnection(host: MailHost): SshConnection {
  if (!(host.transport instanceof SshTransport)) throw new Error(`lab: ${host.label} is not reached over SSH`);
  return host.transport.connection;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  if (process.getuid?.() !== 0)
    throw new Error('lab: the lab runs sshd and chasquid as their real users and needs root (CI runs as root).');
  const build = options.chasquid ?? '1.15';
  const domains = options.domains ?? ['example.test'];
  const hostname = `mail.${domains[0]}`;
  const withDns = options.dns ?? true;
  const withAcme = options.acme ?? false;
  const transport = options.transport ?? 'ssh';
  const pebbleBinary = options.pebble === '2.6' ? path.join(labCache, 'pebble-2.6/usr/bin/pebble') : '/usr/bin/pebble';
  if (withAcme && !existsSync(pebbleBinary)) throw new Error(`lab: ${pebbleBinary} is missing; run test/lab/packages.sh as root`);
  const daemon = packageUser('chasquid');
  const outgoingSmtp = options.outgoingSmtp;
  if (outgoingSmtp && !withDns) throw new Error("lab: outgoingSmtp needs the lab's DNS (leave `dns` on)");

  const chasquidBinary = build === '1.11' ? '/usr/bin/chasquid' : path.join(labCache, 'chasquid-1.15/usr/bin/chasquid');
  const chasquidUtil = build === '1.11' ? '/usr/bin/chasquid-util' : path.join(labCache, 'chasquid-1.15/usr/bin/chasquid-util');
  const packagedHook =
    build === '1.11' ? '/etc/chasquid/hooks/post-data' : path.join(labCache, 'chasquid-1.15/etc/chasquid/hooks/post-data');
  if (!existsSync(chasquidBinary)) throw new Error(`lab: ${chasquidBinary} is missing; run test/lab/packages.sh as root`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-lab-'));
  chmodSync(dir, 0o755);
  // Everything the daemon's user runs or reads lies in this directory or in the root-owned cache: its parents must
  // let that user through.
  const closed = enclosingDirectoryClosedToOthers(dir);
  if (closed !== undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `lab: ${closed} (a parent of the lab's directory) cannot be entered by other users, so chasquid cannot run there; set TMPDIR to a directory like /tmp`
    );
  }
  const p = (...parts: string[]) => path.join(dir, ...parts);
  // The lab's own copies of its scripts: the checkout may lie where the chasquid user cannot enter.
  const tools = p('tools');
  for (const sub of [
    'ssh',
    'bin',
    'tools',
    'home',
    'etc/chasquid/certs',
    'etc/chasquid/domains',
    'etc/chasquid/hooks',
    'var/lib/chasquid',
    'var/log',
    'mail',
    'run',
    'knot/zones',
    'knot/db',
    'knot/run',
    'pebble',
    'state',
  ]) {
    mkdirSync(p(sub), { recursive: true });
  }
  for (const sub of ['var/lib/chasquid', 'var/log', 'mail', 'run']) chownSync(p(sub), daemon.uid, daemon.gid);
  for (const script of ['mda', 'restart-chasquid', 'supervise-chasquid']) {
    copyFileSync(path.join(labScripts, script), path.join(tools, script));
    chmodSync(path.join(tools, script), 0o755);
  }

  const [ssh, smtp, submission, submissionTls, monitoring, dns, acme, acmeManagement, acmeHttp, acmeTls] = (await freePorts(10)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ports = { ssh, smtp, submission, submissionTls, monitoring, dns, acme, acmeManagement };

  const children: ChildProcess[] = [];
  const logs = new Map<string, string[]>();
  const startProcess = (
    name: string,
    command: string,
    args: string[],
    extra: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}
  ) => {
    const child = spawn(command, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...extra });
    const lines: string[] = [];
    logs.set(name, lines);
    const keep = (chunk: Buffer) => {
      lines.push(chunk.toString('utf8'));
      if (lines.length > 400) lines.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    children.push(child);
    return child;
  };
  const logOf = (name: string) => (logs.get(name) ?? []).join('').slice(-4000);

  let stopped = false;
  // MAIL_HOST=local: this process's PATH is the host's while the lab runs (see the top of this file).
  let pathBefore: string | undefined;
  let pathSet: string | undefined;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killAll);
    if (pathSet !== undefined && process.env.PATH === pathSet) {
      if (pathBefore === undefined) delete process.env.PATH;
      else process.env.PATH = pathBefore;
    }
    writeFileSync(p('run/stop'), '');
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
            const timer = setTimeout(() => {
              try {
                process.kill(-child.pid!, 'SIGKILL');
              } catch {
                /* gone */
              }
            }, 2000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            try {
              process.kill(-child.pid, 'SIGTERM');
            } catch {
              clearTimeout(timer);
              resolve();
            }
          })
      )
    );
    if (process.env.MAILOPS_LAB_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  };
  const killAll = () => {
    for (const child of children) {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.on('exit', killAll);

  try {
    // Keys and certificates.
    await Promise.all([
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lab-host', '-f', p('ssh/host_ed25519')]),
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mailops-lab', '-f', p('ssh/client_ed25519')]),
      (options.certificate ?? true) &&
        openssl(
          [
            'req',
            '-x509',
            '-newkey',
            'ec',
            '-pkeyopt',
            'ec_paramgen_curve:prime256v1',
            '-nodes',
            '-days',
            '90',
            '-keyout',
            'privkey.pem',
            '-out',
            'fullchain.pem',
            '-subj',
            `/CN=${hostname}`,
            '-addext',
            `subjectAltName=DNS:${hostname}`,
          ],
          (mkdirSync(p('etc/chasquid/certs', hostname), { recursive: true }), p('etc/chasquid/certs', hostname))
        ),
      (async () => {
        if (!withAcme) return;
        const cwd = p('pebble');
        await openssl(
          [
            'req',
            '-x509',
            '-newkey',
            'ec',
            '-pkeyopt',
            'ec_paramgen_curve:prime256v1',
            '-nodes',
            '-days',
            '30',
            '-keyout',
            'ca.key',
            '-out',
            'ca.pem',
            '-subj',
            '/CN=mailops lab CA',
          ],
          cwd
        );
        await openssl(
          [
            'req',
            '-newkey',
            'ec',
            '-pkeyopt',
            'ec_paramgen_curve:prime256v1',
            '-nodes',
            '-keyout',
            'key.pem',
            '-out',
            'leaf.csr',
            '-subj',
            '/CN=localhost',
          ],
          cwd
        );
        writeFileSync(path.join(cwd, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
        await openssl(
          [
            'x509',
            '-req',
            '-in',
            'leaf.csr',
            '-CA',
            'ca.pem',
            '-CAkey',
            'ca.key',
            '-CAcreateserial',
            '-days',
            '30',
            '-extfile',
            'leaf.ext',
            '-out',
            'cert.pem',
          ],
          cwd
        );
      })(),
    ]);
    const certDir = p('etc/chasquid/certs', hostname);
    if (options.certificate ?? true) {
      chownSync(path.join(certDir, 'privkey.pem'), 0, daemon.gid);
      chmodSync(path.join(certDir, 'privkey.pem'), 0o640);
      chmodSync(path.join(certDir, 'fullchain.pem'), 0o644);
    }
    const hostKey = readFileSync(p('ssh/host_ed25519.pub'), 'utf8').trim().split(' ');
    writeFileSync(p('ssh/known_hosts'), `[127.0.0.1]:${ssh} ${hostKey[0]} ${hostKey[1]}\n`);
    copyFileSync(p('ssh/client_ed25519.pub'), p('ssh/authorized_keys_root'));

    // The mail host's PATH: chasquid and chasquid-util of the chosen build come first.
    symlinkSync(chasquidBinary, p('bin/chasquid'));
    symlinkSync(chasquidUtil, p('bin/chasquid-util'));
    const hostPath = `${p('bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

    // sshd
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    writeFileSync(
      p('ssh/sshd_config'),
      [
        `Port ${ssh}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${p('ssh/host_ed25519')}`,
        `PidFile ${p('ssh/sshd.pid')}`,
        // root logs in with the lab key; other users (deploy/host-setup.sh's restricted one) with their own.
        `AuthorizedKeysFile ${p('ssh/authorized_keys_%u')} .ssh/authorized_keys`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PrintMotd no',
        'MaxStartups 100',
        // A home of its own: the test machine's ~/.bashrc (which bash reads for SSH commands) is not the mail host's.
        `SetEnv PATH=${hostPath} HOME=${p('home')}`,
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        '',
      ].join('\n')
    );
    const sshd = startProcess('sshd', '/usr/sbin/sshd', ['-D', '-e', '-f', p('ssh/sshd_config')]);

    // chasquid
    const chasquidDir = p('etc/chasquid');
    writeFileSync(
      path.join(chasquidDir, 'chasquid.conf'),
      [
        '# chasquid configuration of the mailops lab.',
        `hostname: "${hostname}"`,
        `smtp_address: "127.0.0.1:${smtp}"`,
        `submission_address: "127.0.0.1:${submission}"`,
        `submission_over_tls_address: "127.0.0.1:${submissionTls}"`,
        `monitoring_address: "127.0.0.1:${monitoring}"`,
        `mail_delivery_agent_bin: "${path.join(tools, 'mda')}"`,
        `mail_delivery_agent_args: "${p('mail')}"`,
        'mail_delivery_agent_args: "%to%"',
        `data_dir: "${p('var/lib/chasquid')}"`,
        `mail_log_path: "${p('var/log/mail.log')}"`,
        '',
      ].join('\n')
    );
    copyFileSync(packagedHook, path.join(chasquidDir, 'hooks/post-data'));
    chmodSync(path.join(chasquidDir, 'hooks/post-data'), 0o755);
    if (options.createDomainDirs ?? true) {
      for (const domain of domains) mkdirSync(path.join(chasquidDir, 'domains', domain), { mode: 0o755 });
    }
    for (const key of options.dkimKeys ?? []) {
      const domainDir = path.join(chasquidDir, 'domains', key.domain);
      mkdirSync(domainDir, { recursive: true, mode: 0o755 });
      let keyFile = path.join(domainDir, `dkim:${key.selector}.pem`);
      if (build === '1.11') {
        writeFileSync(path.join(domainDir, 'dkim_selector'), `${key.selector}\n`);
        mkdirSync(path.join(chasquidDir, 'certs', key.domain), { recursive: true, mode: 0o755 });
        keyFile = path.join(chasquidDir, 'certs', key.domain, 'dkim_privkey.pem');
      }
      writeFileSync(keyFile, key.privateKeyPem, { mode: 0o640 });
      chownSync(keyFile, 0, daemon.gid);
    }
    const chasquidArgs = [
      `-config_dir=${chasquidDir}`,
      '-alsologtostderr',
      '-testing__reload_every=1s',
      ...(outgoingSmtp ? [`-testing__outgoing_smtp_port=${outgoingSmtp.port}`] : []),
    ];
    const chasquidEnv = { PATH: hostPath, HOME: p('var/lib/chasquid'), LANG: 'C.UTF-8' };
    const supervised = [path.join(tools, 'supervise-chasquid'), p('run'), chasquidBinary, ...chasquidArgs];
    const chasquidNameserver = outgoingSmtp ? await freeNameserverAddress() : undefined;
    if (outgoingSmtp) {
      writeFileSync(p('etc/resolv.conf'), `nameserver ${chasquidNameserver}\noptions timeout:1 attempts:2\n`);
    }
    // With outgoingSmtp: root enters a mount namespace of its own, lays the lab's resolv.conf over the machine's there
    // (nothing outside the namespace sees it), and only then becomes the chasquid user, as the plain spawn does.
    const superviseChasquid = () =>
      outgoingSmtp
        ? startProcess(
            'chasquid',
            'unshare',
            [
              '--mount',
              '--propagation',
              'private',
              '--',
              'sh',
              '-c',
              'uid=$1 gid=$2; shift 2; mount --bind "$0" /etc/resolv.conf && exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"',
              p('etc/resolv.conf'),
              String(daemon.uid),
              String(daemon.gid),
              ...supervised,
            ],
            { env: chasquidEnv }
          )
        : startProcess('chasquid', supervised[0]!, supervised.slice(1), { uid: daemon.uid, gid: daemon.gid, env: chasquidEnv });
    let chasquidSupervisor = superviseChasquid();

    // Knot DNS
    const tsigSecret = randomBytes(32).toString('base64');
    const tsig = { name: 'mailops-lab', algorithm: 'hmac-sha256', secret: tsigSecret };
    const tsigKeys = [
      tsig,
      ...['hmac-sha384', 'hmac-sha512'].map((algorithm) => ({
        name: `mailops-lab-${algorithm.slice(5)}`,
        algorithm,
        secret: randomBytes(48).toString('base64'),
      })),
    ];
    const zoneNames = [...new Set([...domains, ...Object.keys(options.zones ?? {}), '127.in-addr.arpa'])];
    const revokedKeys = new Set<string>();
    const writeKnotConfig = () =>
      writeFileSync(
        p('knot/knot.conf'),
        [
          'server:',
          `  rundir: "${p('knot/run')}"`,
          `  listen: [127.0.0.1@${dns}${chasquidNameserver ? `, ${chasquidNameserver}@53` : ''}]`,
          'log:',
          '  - target: stderr',
          '    any: warning',
          'database:',
          `  storage: "${p('knot/db')}"`,
          'key:',
          ...tsigKeys
            .filter((key) => !revokedKeys.has(key.name))
            .map((key) => `  - id: ${key.name}\n    algorithm: ${key.algorithm}\n    secret: ${key.secret}`),
          'acl:',
          '  - id: lab-update',
          `    key: [${tsigKeys
            .filter((key) => !revokedKeys.has(key.name))
            .map((key) => key.name)
            .join(', ')}]`,
          '    action: update',
          'control:',
          `  listen: "${p('knot/run/knot.sock')}"`,
          'template:',
          '  - id: default',
          `    storage: "${p('knot/zones')}"`,
          '    file: "%s.zone"',
          '    zonefile-sync: -1',
          '    semantic-checks: off',
          'zone:',
          ...zoneNames.map((zone) => `  - domain: ${zone}\n    acl: lab-update`),
          '',
        ].join('\n')
      );
    if (withDns) {
      for (const zone of zoneNames) {
        const given = options.zones?.[zone];
        const text =
          given !== undefined
            ? `$ORIGIN ${zone}.\n$TTL 60\n${given}\n`
            : zone === '127.in-addr.arpa'
              ? reverseZone(hostname)
              : defaultZone(zone, hostname, true);
        writeFileSync(p('knot/zones', `${zone}.zone`), text);
      }
      writeKnotConfig();
      startProcess('knot', '/usr/sbin/knotd', ['-c', p('knot/knot.conf')]);
    }

    // pebble
    if (withAcme) {
      writeFileSync(
        p('pebble/config.json'),
        JSON.stringify({
          pebble: {
            listenAddress: `127.0.0.1:${acme}`,
            managementListenAddress: `127.0.0.1:${acmeManagement}`,
            certificate: p('pebble/cert.pem'),
            privateKey: p('pebble/key.pem'),
            httpPort: acmeHttp,
            tlsPort: acmeTls,
            ocspResponderURL: '',
            externalAccountBindingRequired: false,
            ...(options.certificateValiditySeconds === undefined ? {} : { certificateValidityPeriod: options.certificateValiditySeconds }),
          },
        })
      );
      startProcess(
        'pebble',
        pebbleBinary,
        ['-config', p('pebble/config.json'), '-dnsserver', `127.0.0.1:${dns}`],
        // No reuse of valid authorizations (pebble reuses half of them by default): every order runs its DNS-01
        // challenge, so that a test of a failing DNS update fails every time.
        { env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_AUTHZREUSE: '0' } }
      );
    }

    const caFile = p('pebble/ca.pem');
    const env: Record<string, string> = {
      ...(transport === 'local'
        ? { MAIL_HOST: 'local' }
        : {
            MAIL_HOST: `ssh://root@127.0.0.1:${ssh}`,
            SSH_KEY_FILE: p('ssh/client_ed25519'),
            SSH_KNOWN_HOSTS_FILE: p('ssh/known_hosts'),
          }),
      CHASQUID_DIR: chasquidDir,
      CHASQUID_RESTART: `${path.join(tools, 'restart-chasquid')} ${p('run')} ${smtp}`,
      MAIL_DOMAINS: domains.join(','),
      SMTP_SUBMISSION: `127.0.0.1:${submission}`,
      STATE_DB: p('state/mailops.db'),
      ...(withDns
        ? {
            DNS_RESOLVER: `127.0.0.1:${dns}`,
            DNS_PROVIDER: 'rfc2136',
            RFC2136_SERVER: `127.0.0.1:${dns}`,
            RFC2136_TSIG: `${tsig.algorithm}:${tsig.name}:${tsig.secret}`,
          }
        : {}),
      ...(withAcme
        ? {
            ACME_DIRECTORY: `https://127.0.0.1:${acme}/dir`,
            ACME_EMAIL: `postmaster@${domains[0]}`,
            ACME_CA_FILE: caFile,
          }
        : {}),
    };
    const envFile = p('.env');
    writeFileSync(
      envFile,
      `${Object.entries(env)
        .map(([name, value]) => `${name}=${value}`)
        .join('\n')}\n`
    );

    // Wait until every server answers.
    const waits: Promise<void>[] = [
      waitUntilUp(
        'sshd',
        () => tcpOpen(ssh),
        5000,
        () => logOf('sshd')
      ),
      ...((options.certificate ?? true)
        ? [
            waitUntilUp(
              `chasquid ${build}`,
              () => tcpOpen(smtp),
              5000,
              () => logOf('chasquid')
            ),
          ]
        : []),
    ];
    if (withDns) {
      const resolver = new Resolver({ timeout: 200, tries: 1 });
      resolver.setServers([`127.0.0.1:${dns}`]);
      // Each zone is asked until it has answered once (hundreds of zones are not all answered within one try's timeout).
      const unanswered = new Set(zoneNames);
      waits.push(
        waitUntilUp(
          'Knot DNS',
          async () => {
            await Promise.all(
              [...unanswered].map((zone) =>
                resolver.resolveSoa(zone).then(
                  () => unanswered.delete(zone),
                  () => undefined
                )
              )
            );
            return unanswered.size === 0;
          },
          5000,
          () => `${unanswered.size} zones did not answer\n${logOf('knot')}`
        )
      );
    }
    if (withAcme) {
      const ca = readFileSync(caFile);
      waits.push(
        waitUntilUp(
          'pebble',
          () =>
            new Promise<boolean>((resolve) => {
              https
                .get(`https://127.0.0.1:${acme}/dir`, { ca }, (response) => {
                  response.resume();
                  resolve(response.statusCode === 200);
                })
                .on('error', () => resolve(false));
            }),
          8000,
          () => logOf('pebble')
        )
      );
    }
    await Promise.all(waits);
    if (transport === 'local') {
      pathBefore = process.env.PATH;
      pathSet = `${p('bin')}:${pathBefore ?? hostPath}`;
      process.env.PATH = pathSet;
    }

    return {
      dir,
      chasquid: build,
      hostname,
      domains,
      chasquidDir,
      mailDir: p('mail'),
      envFile,
      env,
      ports,
      ...(chasquidNameserver ? { chasquidNameserver } : {}),
      tsig,
      tsigKeys,
      acmeCaFile: caFile,
      daemon,
      transport,
      hostPath,
      sshKeyFile: p('ssh/client_ed25519'),
      async dropSshConnections() {
        const { stdout } = await run('pgrep', ['-P', String(sshd.pid)]).catch(() => ({ stdout: '' }));
        for (const pid of stdout.split('\n').filter((line) => line.trim() !== '')) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      },
      async knotc(...args: string[]) {
        const { stdout } = await run('knotc', ['-s', p('knot/run/knot.sock'), ...args]);
        return stdout;
      },
      async stopChasquid() {
        writeFileSync(p('run/stop'), '');
        await new Promise<void>((resolve) => {
          if (chasquidSupervisor.exitCode !== null || chasquidSupervisor.pid === undefined) return resolve();
          chasquidSupervisor.once('exit', () => resolve());
          process.kill(-chasquidSupervisor.pid, 'SIGTERM');
        });
        rmSync(p('run/stop'), { force: true });
        await waitUntilUp(
          'chasquid to stop',
          async () => !(await tcpOpen(smtp)),
          5000,
          () => logOf('chasquid')
        );
      },
      async startChasquid() {
        chasquidSupervisor = superviseChasquid();
        await waitUntilUp(
          `chasquid ${build}`,
          () => tcpOpen(smtp),
          5000,
          () => logOf('chasquid')
        );
      },
      chasquidPid() {
        return Number(readFileSync(p('run/chasquid.pid'), 'utf8').trim());
      },
      chasquidLog() {
        return logOf('chasquid');
      },
      pebbleLog() {
        return logOf('pebble');
      },
      breakNextRestart(how) {
        writeFileSync(p('run/break-next-restart'), how);
      },
      async revokeTsigKeys(...names) {
        for (const name of names) revokedKeys.add(name);
        writeKnotConfig();
        await run('knotc', ['-s', p('knot/run/knot.sock'), 'reload']);
      },
      async restoreTsigKeys() {
        revokedKeys.clear();
        writeKnotConfig();
        await run('knotc', ['-s', p('knot/run/knot.sock'), 'reload']);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
