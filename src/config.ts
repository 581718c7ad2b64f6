// mailops configuration: every variable of the public interface, read from the environment and a `.env` file.
//
// Each variable is described once, here: its zod schema (which also turns the text into a useful value), an example
// of a valid value, and whether it is a secret (a secret's value is never repeated in a message). Nothing is required
// at parse time; each front end asks for the group of settings it needs (`requireSettings`), so that `mailops users`
// does not demand a Discord token and `mailops start` names every Discord setting that is missing at once.
//
// Precedence: a variable set in the process environment wins over the same variable in the file, as with dotenv and
// Node's own --env-file. An empty value (`NAME=`) counts as unset, so a copied .env.example works as a template.

import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { usageError } from './errors.ts';
import { cronProblem } from './schedule/slots.ts';
import { domainProblem, normalizeDomain } from './validation/domain.ts';

/** MAIL_HOST=ssh://user@host:port: mailops runs elsewhere and reaches the mail host over SSH. */
export interface SshTarget {
  transport: 'ssh';
  user: string;
  host: string;
  port: number;
}

/**
 * MAIL_HOST=local (or local:PATH): mailops runs on the mail host itself and calls mailops-host directly — as root,
 * or through the sudo rule of deploy/host-setup.sh, which runs the copy installed at `program`.
 */
export interface LocalTarget {
  transport: 'local';
  /** Where mailops reaches the mail host's own services (the submission port): this machine. */
  host: '127.0.0.1';
  program: string;
}

export type MailHostTarget = SshTarget | LocalTarget;

/** Where deploy/host-setup.sh installs mailops-host by default (its --prefix). */
export const installedHostProgram = '/usr/local/lib/mailops/mailops-host';

export interface HostPort {
  host: string;
  port: number;
}

export interface TsigKey {
  algorithm: 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';
  name: string;
  secret: Buffer;
}

const snowflake = /^[0-9]{17,20}$/;
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `host:port`, `[v6]:port`; the port may be optional with a default. */
function parseHostPort(text: string, defaultPort?: number): HostPort | undefined {
  const bracketed = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(text);
  const plain = /^([^:[\]]+)(?::([0-9]{1,5}))?$/.exec(text);
  const match = bracketed ?? plain;
  if (!match) {
    // A bare IPv6 address without a port.
    if (defaultPort !== undefined && isIP(text) === 6) return { host: text, port: defaultPort };
    return undefined;
  }
  const host = match[1] ?? '';
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (port === undefined || port < 1 || port > 65535) return undefined;
  if (bracketed && isIP(host) !== 6) return undefined;
  if (!bracketed && isIP(host) === 0 && domainProblem(host) !== undefined && host !== 'localhost') return undefined;
  return { host, port };
}

function hostPort(defaultPort?: number, ipOnly = false) {
  return z.string().transform((text, context) => {
    const parsed = parseHostPort(text, defaultPort);
    if (!parsed || (ipOnly && isIP(parsed.host) === 0)) {
      context.addIssue({ code: 'custom', message: 'not a valid address' });
      return z.NEVER;
    }
    return parsed;
  });
}

function list<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '')
    )
    .pipe(z.array(item));
}

const domainSchema = z
  .string()
  .refine((value) => domainProblem(value) === undefined, 'not a valid domain')
  .transform((value) => normalizeDomain(value));

const certificateNameSchema = z
  .string()
  .refine((value) => domainProblem(value.startsWith('*.') ? value.slice(2) : value) === undefined, 'not a valid name')
  .transform((value) => (value.startsWith('*.') ? `*.${normalizeDomain(value.slice(2))}` : normalizeDomain(value)));

const absolutePathPattern = /^[A-Za-z0-9/._+-]+$/;
const isAbsolutePath = (value: string) =>
  path.posix.isAbsolute(value) && !value.split('/').includes('..') && absolutePathPattern.test(value);

function parseSshTarget(text: string): SshTarget | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const user = decodeURIComponent(url.username);
  const valid =
    url.protocol === 'ssh:' &&
    /^[a-z_][a-z0-9_.-]{0,31}$/i.test(user) &&
    host !== '' &&
    url.password === '' &&
    (url.pathname === '' || url.pathname === '/') &&
    url.search === '' &&
    url.hash === '';
  return valid ? { transport: 'ssh', user, host, port: url.port === '' ? 22 : Number(url.port) } : undefined;
}

const mailHostSchema = z.string().transform((text, context): MailHostTarget => {
  if (text === 'local') return { transport: 'local', host: '127.0.0.1', program: installedHostProgram };
  if (text.startsWith('local:')) {
    const program = text.slice('local:'.length);
    if (isAbsolutePath(program) && !program.endsWith('/')) return { transport: 'local', host: '127.0.0.1', program };
    context.addIssue({ code: 'custom', message: 'local: must be followed by the absolute path of the installed mailops-host' });
    return z.NEVER;
  }
  const target = parseSshTarget(text);
  if (target === undefined) {
    context.addIssue({ code: 'custom', message: 'neither local nor an ssh:// URL with a user' });
    return z.NEVER;
  }
  return target;
});

const tsigSchema = z.string().transform((text, context): TsigKey => {
  const [algorithm, name, secret, ...rest] = text.split(':');
  const algorithms = ['hmac-sha256', 'hmac-sha384', 'hmac-sha512'];
  const decoded = secret === undefined ? Buffer.alloc(0) : Buffer.from(secret, 'base64');
  const nameOk = name !== undefined && /^[a-z0-9][a-z0-9._-]*\.?$/i.test(name);
  if (
    rest.length > 0 ||
    algorithm === undefined ||
    !algorithms.includes(algorithm.toLowerCase()) ||
    !nameOk ||
    secret === undefined ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(secret) ||
    decoded.length < 16
  ) {
    context.addIssue({ code: 'custom', message: 'not a TSIG key' });
    return z.NEVER;
  }
  return { algorithm: algorithm.toLowerCase() as TsigKey['algorithm'], name: name.toLowerCase(), secret: decoded };
});

const absolutePath = z
  .string()
  .refine(isAbsolutePath, 'not an absolute path')
  .transform((value) => (value.length > 1 ? value.replace(/\/+$/, '') : value));

// Valid when the scheduler can follow it: the same library decides both (schedule/slots.ts).
const cronSchema = z.string().refine((value) => cronProblem(value) === undefined, 'not a cron expression the scheduler can follow');
const urlSchema = z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'not an http(s) URL');
const fileSchema = z.string().min(1);

interface Variable {
  schema: z.ZodType;
  example: string;
  secret?: boolean;
}

/** Every variable of the interface. The examples are what error messages and .env.example show. */
export const variables = {
  MAIL_HOST: { schema: mailHostSchema, example: 'ssh://root@mail.example.com:22 or local' },
  SSH_KEY_FILE: { schema: fileSchema, example: '/etc/mailops/id_ed25519' },
  SSH_KNOWN_HOSTS_FILE: { schema: fileSchema, example: '/etc/mailops/known_hosts' },
  CHASQUID_DIR: { schema: absolutePath.default('/etc/chasquid'), example: '/etc/chasquid' },
  CHASQUID_RESTART: {
    schema: z
      .string()
      .transform((text) => text.split(' ').filter((part) => part !== ''))
      .pipe(z.array(z.string().regex(/^[A-Za-z0-9@%+=:,./_-]+$/)).min(1))
      .default(['systemctl', 'restart', 'chasquid']),
    example: 'systemctl restart chasquid',
  },
  MAIL_DOMAINS: { schema: list(domainSchema).pipe(z.array(z.string()).min(1)), example: 'example.com,example.org' },
  SMTP_SUBMISSION: { schema: hostPort(587), example: 'mail.example.com:587' },
  DNS_RESOLVER: { schema: hostPort(53, true), example: '127.0.0.1:53' },
  DNS_PROVIDER: { schema: z.enum(['rfc2136', 'cloudflare', 'manual']).default('manual'), example: 'rfc2136' },
  RFC2136_SERVER: { schema: hostPort(53, true), example: '192.0.2.53:53' },
  RFC2136_TSIG: { schema: tsigSchema, example: 'hmac-sha256:mailops-key:<base64 secret of at least 16 bytes>', secret: true },
  CLOUDFLARE_API_TOKEN: {
    schema: z.string().regex(/^[A-Za-z0-9_-]{20,}$/),
    example: '<API token with Zone.DNS edit rights>',
    secret: true,
  },
  ACME_DIRECTORY: {
    schema: urlSchema.default('https://acme-v02.api.letsencrypt.org/directory'),
    example: 'https://acme-v02.api.letsencrypt.org/directory',
  },
  ACME_EMAIL: { schema: z.email(), example: 'postmaster@example.com' },
  CERT_EXTRA_NAMES: { schema: list(certificateNameSchema), example: '*.example.com,example.com' },
  ACME_CA_FILE: { schema: fileSchema, example: '/etc/mailops/test-ca.pem' },
  // Profile names are the CA's (RFC draft-ietf-acme-profiles): checked against its directory when ordering.
  ACME_PROFILE: { schema: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), example: 'tlsserver' },
  DKIM_GRACE_DAYS: { schema: z.coerce.number().min(0).max(365).default(7), example: '7' },
  DNSBL_IP_ZONES: {
    schema: list(domainSchema).default(['zen.spamhaus.org', 'bl.spamcop.net', 'psbl.surriel.com']),
    example: 'zen.spamhaus.org,bl.spamcop.net',
  },
  DNSBL_DOMAIN_ZONES: { schema: list(domainSchema).default(['dbl.spamhaus.org', 'multi.surbl.org']), example: 'dbl.spamhaus.org' },
  STATE_DB: { schema: fileSchema.default('./data/mailops.db'), example: './data/mailops.db' },
  DISCORD_TOKEN: {
    schema: z.string().regex(/^[A-Za-z0-9._-]{20,}$/),
    example: '<bot token from the Discord developer portal>',
    secret: true,
  },
  DISCORD_APPLICATION_ID: { schema: z.string().regex(snowflake), example: '123456789012345678' },
  DISCORD_GUILD_ID: { schema: z.string().regex(snowflake), example: '123456789012345678' },
  DISCORD_API_URL: {
    schema: urlSchema.transform((url) => url.replace(/\/+$/, '')).default('https://discord.com/api'),
    example: 'https://discord.com/api',
  },
  DISCORD_ADMIN_ROLE_IDS: {
    schema: list(z.string().regex(snowflake)).pipe(z.array(z.string()).min(1)),
    example: '123456789012345678,234567890123456789',
  },
  DISCORD_VIEWER_ROLE_IDS: { schema: list(z.string().regex(snowflake)).default([]), example: '345678901234567890' },
  ALERT_CHANNEL_ID: { schema: z.string().regex(snowflake), example: '123456789012345678' },
  HEALTH_CHANNEL_ID: { schema: z.string().regex(snowflake), example: '123456789012345678' },
  AUDIT_CHANNEL_ID: { schema: z.string().regex(snowflake), example: '123456789012345678' },
  ONCALL_ROLE_ID: { schema: z.string().regex(snowflake), example: '123456789012345678' },
  CRON_HEALTH: { schema: cronSchema.default('0 9 * * *'), example: '0 9 * * *' },
  CRON_CERT_WATCH: { schema: cronSchema.default('17 */6 * * *'), example: '17 */6 * * *' },
  CRON_DNS_DRIFT: { schema: cronSchema.default('*/15 * * * *'), example: '*/15 * * * *' },
  CRON_REPORTS: { schema: cronSchema.default('23 * * * *'), example: '23 * * * *' },
  CRON_DIGEST: { schema: cronSchema.default('0 8 * * 1'), example: '0 8 * * 1' },
  REPORT_ADDRESS: {
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a local part in lower case: letters, digits, dots, hyphens and underscores')
      .refine((local) => !local.endsWith('.') && !local.includes('..'), 'no dot at the end and no two dots in a row')
      .default('mailops-reports'),
    example: 'mailops-reports',
  },
  DMARC_PASS_RATE_MIN: { schema: z.coerce.number().min(0).max(1).default(0.9), example: '0.9' },
  QUEUE_STUCK_HOURS: { schema: z.coerce.number().positive().max(20).default(4), example: '4' },
  HTTP_LISTEN: { schema: hostPort(), example: '127.0.0.1:9465' },
  LOG_LEVEL: { schema: z.enum(logLevels).default('info'), example: 'info' },
} satisfies Record<string, Variable>;

export type VariableName = keyof typeof variables;

const configSchema = z.object(
  Object.fromEntries(
    Object.entries(variables).map(([name, variable]) => {
      const schema = variable.schema as z.ZodType;
      return [name, schema instanceof z.ZodDefault ? schema : schema.optional()];
    })
  ) as {
    [K in VariableName]: (typeof variables)[K]['schema'] extends z.ZodDefault<z.ZodType>
      ? (typeof variables)[K]['schema']
      : z.ZodOptional<(typeof variables)[K]['schema']>;
  }
);

export type Config = z.output<typeof configSchema> & {
  /** Variables that were set explicitly (environment or file), as opposed to defaults. */
  readonly explicitlySet: ReadonlySet<VariableName>;
};

/** The variable values that are secrets, for the log redactor. */
export function secretValues(env: Record<string, string | undefined>): string[] {
  const values: string[] = [];
  for (const [name, variable] of Object.entries(variables) as [VariableName, Variable][]) {
    const value = env[name];
    if (!variable.secret || value === undefined || value === '') continue;
    values.push(value);
    if (name === 'RFC2136_TSIG') values.push(value.split(':')[2] ?? value);
  }
  return values.filter((value) => value.length >= 6);
}

export interface LoadedEnvironment {
  /** The merged variables (file first, then the process environment). */
  values: Record<string, string>;
  /** The file that was read, if any. */
  file: string | undefined;
}

/** Reads `--env-file` (which must exist) or `.env` in `cwd` (if present) and merges the process environment over it. */
export function loadEnvironment(options: { envFile?: string; cwd: string; env: NodeJS.ProcessEnv }): LoadedEnvironment {
  const file = options.envFile === undefined ? path.join(options.cwd, '.env') : path.resolve(options.cwd, options.envFile);
  let fromFile: Record<string, string | undefined> = {};
  let used: string | undefined;
  if (options.envFile !== undefined || existsSync(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'it does not exist'
          : code === 'EACCES'
            ? 'permission denied'
            : code === 'EISDIR'
              ? 'it is a directory'
              : (code ?? String(error));
      throw usageError(
        'env-file-unreadable',
        `Cannot read the settings file ${file}: ${why}.`,
        'Check the path given to --env-file, or create the file from .env.example.'
      );
    }
    fromFile = parseEnv(text);
    used = file;
  }
  const values: Record<string, string> = {};
  for (const source of [fromFile, options.env]) {
    for (const [name, value] of Object.entries(source)) {
      if (value !== undefined && name in variables) {
        if (value === '') delete values[name];
        else values[name] = value;
      }
    }
  }
  return { values, file: used };
}

/** Validates the variables; a problem with any of them is a usage error that names each one and shows a valid value. */
export function parseConfig(values: Record<string, string>): Config {
  const result = configSchema.safeParse(values);
  if (!result.success) {
    const names = [...new Set(result.error.issues.map((issue) => String(issue.path[0])))];
    const lines = names.map((name) => describeProblem(name as VariableName, values[name]));
    throw usageError('invalid-configuration', lines.join('\n'), 'Fix the variable in the environment or the .env file (see .env.example).');
  }
  const explicitlySet = new Set(Object.keys(values).filter((name): name is VariableName => name in variables));
  const config = { ...result.data, explicitlySet } as Config;
  // HEALTH_CHANNEL_ID defaults to the alert channel.
  if (config.HEALTH_CHANNEL_ID === undefined && config.ALERT_CHANNEL_ID !== undefined) config.HEALTH_CHANNEL_ID = config.ALERT_CHANNEL_ID;
  return config;
}

function describeProblem(name: VariableName, value: string | undefined): string {
  const variable: Variable = variables[name];
  const shown = variable.secret
    ? '(value hidden: it is a secret)'
    : `"${JSON.stringify(value ?? '')
        .slice(1, -1)
        .slice(0, 80)}"`;
  return `${name} is not valid ${shown}: expected a value like ${variable.example}.`;
}

export const settingGroups = {
  host: ['MAIL_HOST', 'SSH_KEY_FILE', 'SSH_KNOWN_HOSTS_FILE', 'MAIL_DOMAINS'],
  acme: ['ACME_EMAIL'],
  discord: ['DISCORD_TOKEN', 'DISCORD_APPLICATION_ID', 'DISCORD_ADMIN_ROLE_IDS', 'ALERT_CHANNEL_ID'],
  registration: ['DISCORD_TOKEN', 'DISCORD_APPLICATION_ID'],
} satisfies Record<string, VariableName[]>;

/** Variables a group lists that this configuration does without: the SSH settings when the mail host is local. */
function notNeeded(config: Config, name: VariableName): boolean {
  return (name === 'SSH_KEY_FILE' || name === 'SSH_KNOWN_HOSTS_FILE') && config.MAIL_HOST?.transport === 'local';
}

/** Fails with one message naming every missing variable of the group, each with an example value. */
export function requireSettings(config: Config, group: keyof typeof settingGroups, purpose: string): void {
  const names: VariableName[] = settingGroups[group];
  const missing = names.filter((name) => config[name] === undefined && !notNeeded(config, name));
  if (missing.length === 0) return;
  const lines = missing.map((name) => `${name} is missing: set it to a value like ${variables[name].example}.`);
  throw usageError(
    'missing-configuration',
    `${purpose} needs ${missing.join(', ')}.\n${lines.join('\n')}`,
    'Set the variables in the environment or the .env file (see .env.example).'
  );
}

/** Reads and validates the configuration in one step. */
export function loadConfig(options: { envFile?: string; cwd: string; env: NodeJS.ProcessEnv }): { config: Config; secrets: string[] } {
  const environment = loadEnvironment(options);
  const secrets = secretValues(environment.values);
  return { config: parseConfig(environment.values), secrets };
}
