import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mailopsErrorOf } from '../test/errors.ts';
import { loadConfig, loadEnvironment, parseConfig, requireSettings, variables } from './config.ts';

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig({});
    expect(config.CHASQUID_DIR).toBe('/etc/chasquid');
    expect(config.CHASQUID_RESTART).toEqual(['systemctl', 'restart', 'chasquid']);
    expect(config.DNS_PROVIDER).toBe('manual');
    expect(config.ACME_DIRECTORY).toBe('https://acme-v02.api.letsencrypt.org/directory');
    expect(config.DKIM_GRACE_DAYS).toBe(7);
    expect(config.STATE_DB).toBe('./data/mailops.db');
    expect(config.DISCORD_API_URL).toBe('https://discord.com/api');
    expect([config.CRON_HEALTH, config.CRON_CERT_WATCH, config.CRON_DNS_DRIFT]).toEqual(['0 9 * * *', '17 */6 * * *', '*/15 * * * *']);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('turns values into what the code needs', () => {
    const config = parseConfig({
      MAIL_HOST: 'ssh://mailops@[2001:db8::25]:2222',
      MAIL_DOMAINS: ' Example.COM, bücher.example ',
      RFC2136_TSIG: `hmac-sha512:Key.Name:${Buffer.alloc(32, 7).toString('base64')}`,
      CERT_EXTRA_NAMES: '*.Example.com',
      SMTP_SUBMISSION: 'mail.example.com',
      HEALTH_CHANNEL_ID: undefined as unknown as string,
      ALERT_CHANNEL_ID: '123456789012345678',
    });
    expect(config.MAIL_HOST).toEqual({ transport: 'ssh', user: 'mailops', host: '2001:db8::25', port: 2222 });
    expect(config.MAIL_DOMAINS).toEqual(['example.com', 'xn--bcher-kva.example']);
    expect(config.RFC2136_TSIG?.algorithm).toBe('hmac-sha512');
    expect(config.RFC2136_TSIG?.name).toBe('key.name');
    expect(config.CERT_EXTRA_NAMES).toEqual(['*.example.com']);
    expect(config.SMTP_SUBMISSION).toEqual({ host: 'mail.example.com', port: 587 });
    expect(config.HEALTH_CHANNEL_ID).toBe('123456789012345678');
  });

  it.each([
    ['MAIL_HOST', 'root@mail.example.com'],
    ['MAIL_HOST', 'localhost'],
    ['MAIL_HOST', 'local:usr/local/lib/mailops/mailops-host'],
    ['MAIL_HOST', 'local:/opt/mailops/../bin/sh'],
    ['MAIL_DOMAINS', 'example.com,../etc'],
    ['CHASQUID_DIR', 'etc/chasquid'],
    ['CHASQUID_RESTART', 'systemctl restart chasquid; rm -rf /'],
    ['DNS_RESOLVER', 'resolver.example.com'],
    ['DNS_PROVIDER', 'route53'],
    ['ACME_EMAIL', 'not-an-address'],
    ['DKIM_GRACE_DAYS', 'seven'],
    ['CRON_HEALTH', 'every day'],
    ['DISCORD_ADMIN_ROLE_IDS', 'admins'],
    ['LOG_LEVEL', 'loud'],
  ])('names %s when it is malformed and shows a valid value', (name, value) => {
    const error = mailopsErrorOf(() => parseConfig({ [name]: value }));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(name);
    expect(error.message).toContain(variables[name as keyof typeof variables].example);
  });

  it('never repeats the value of a malformed secret', () => {
    const error = mailopsErrorOf(() => parseConfig({ RFC2136_TSIG: 'hmac-md5:key:c2VjcmV0LXZhbHVlLXRoYXQtbGVha3M=' }));
    expect(error.message).toContain('RFC2136_TSIG');
    expect(error.explanation).not.toContain('c2VjcmV0LXZhbHVlLXRoYXQtbGVha3M=');
  });

  it('names every missing variable of a group at once', () => {
    const error = mailopsErrorOf(() =>
      requireSettings(parseConfig({ MAIL_HOST: 'ssh://root@mail.example.com' }), 'host', 'Talking to the mail host')
    );
    expect(error.exitCode).toBe(2);
    for (const name of ['SSH_KEY_FILE', 'SSH_KNOWN_HOSTS_FILE', 'MAIL_DOMAINS']) expect(error.message).toContain(name);
    expect(error.message).not.toContain('MAIL_HOST is missing');
  });

  it('takes MAIL_HOST=local for a mailops on the mail host, with the installed mailops-host where host-setup.sh puts it', () => {
    expect(parseConfig({ MAIL_HOST: 'local' }).MAIL_HOST).toEqual({
      transport: 'local',
      host: '127.0.0.1',
      program: '/usr/local/lib/mailops/mailops-host',
    });
    expect(parseConfig({ MAIL_HOST: 'local:/opt/mailops/mailops-host' }).MAIL_HOST).toEqual({
      transport: 'local',
      host: '127.0.0.1',
      program: '/opt/mailops/mailops-host',
    });
  });

  it('needs no SSH settings when the mail host is local', () => {
    expect(() =>
      requireSettings(parseConfig({ MAIL_HOST: 'local', MAIL_DOMAINS: 'example.com' }), 'host', 'Talking to the mail host')
    ).not.toThrow();
    const error = mailopsErrorOf(() => requireSettings(parseConfig({ MAIL_HOST: 'local' }), 'host', 'Talking to the mail host'));
    expect(error.message).toContain('MAIL_DOMAINS is missing');
    expect(error.message).not.toContain('SSH_');
    const overSsh = mailopsErrorOf(() =>
      requireSettings(
        parseConfig({ MAIL_HOST: 'ssh://root@mail.example.com', MAIL_DOMAINS: 'example.com' }),
        'host',
        'Talking to the mail host'
      )
    );
    expect(overSsh.message).toContain('SSH_KEY_FILE is missing');
  });

  it('reads .env from the working directory, and the environment wins over it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-env-'));
    writeFileSync(path.join(dir, '.env'), '# comment\nMAIL_DOMAINS=from-file.example\nLOG_LEVEL=debug\nDNS_PROVIDER=\nUNRELATED=1\n');
    const { config } = loadConfig({ cwd: dir, env: { LOG_LEVEL: 'error' } });
    expect(config.MAIL_DOMAINS).toEqual(['from-file.example']);
    expect(config.LOG_LEVEL).toBe('error');
    expect(config.DNS_PROVIDER).toBe('manual');
    expect(loadEnvironment({ cwd: dir, env: {} }).values).not.toHaveProperty('UNRELATED');
  });

  it('fails with a usage error when --env-file does not exist', () => {
    const error = mailopsErrorOf(() => loadConfig({ envFile: '/nonexistent/mailops.env', cwd: '/', env: {} }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('/nonexistent/mailops.env');
  });

  it('documents every variable in .env.example', async () => {
    const { readFileSync } = await import('node:fs');
    const example = readFileSync(path.join(import.meta.dirname, '../.env.example'), 'utf8');
    for (const name of Object.keys(variables)) expect(example).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });
});
