import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig, secretValues } from './config.ts';
import { failedError } from './errors.ts';
import { createLogger, Redactor } from './log.ts';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('logging', () => {
  it('never writes a planted secret, wherever it hides', () => {
    const tsigSecret = Buffer.from('planted-tsig-secret-0123456789').toString('base64');
    const env = {
      DISCORD_TOKEN: 'planted.discord.token.abcdefghijklmnopqrstuvwxyz',
      RFC2136_TSIG: `hmac-sha256:mailops:${tsigSecret}`,
      CLOUDFLARE_API_TOKEN: 'plantedCloudflareToken_0123456789abcdef',
    };
    const { config, secrets } = loadConfig({ cwd: '/nonexistent', env });
    expect(secretValues(env)).toContain(tsigSecret);
    const redactor = new Redactor();
    for (const secret of secrets) redactor.add(secret);
    const generatedPassword = 'Planted-Generated-Password-7hQx';
    redactor.add(generatedPassword);
    const privateKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

    const output = capture();
    const logger = createLogger({ level: 'trace', redactor, destination: output.stream });
    logger.info({ password: 'Field-Password-Planted-1' }, 'a password field');
    logger.info({ user: { password: 'Nested-Password-Planted-2', token: 'Nested-Token-Planted-3' } }, 'nested');
    logger.info({ request: { headers: { authorization: 'Bot planted.header.token.0123456789abcdef' } } }, 'deep header');
    logger.error(
      { err: failedError('x', `DNS update refused for key ${tsigSecret}`, { cause: new Error(`discord said ${env.DISCORD_TOKEN}`) }) },
      'error with secrets inside'
    );
    logger.warn({ err: Object.assign(new Error('boom'), { config, privateKey }) }, 'error object carrying the config');
    logger.info(`chasquid-util user-add a@example.com --password=${generatedPassword}`);
    logger.info({ detail: `key material:\n${privateKey}` }, 'a private key in free text');
    logger.info({ cloudflare: config.CLOUDFLARE_API_TOKEN }, 'a token under an innocent name');

    const text = output.text();
    expect(text.split('\n').filter(Boolean)).toHaveLength(8);
    for (const planted of [
      'Field-Password-Planted-1',
      'Nested-Password-Planted-2',
      'Nested-Token-Planted-3',
      'planted.header.token',
      tsigSecret,
      env.DISCORD_TOKEN,
      env.CLOUDFLARE_API_TOKEN,
      generatedPassword,
      'PRIVATE KEY-----\\nMC4C',
      privateKey.split('\n')[1] ?? 'x',
    ]) {
      expect(text).not.toContain(planted);
    }
    expect(text).toContain('[REDACTED]');
    // The messages themselves survive: only the secrets are gone.
    expect(text).toContain('DNS update refused for key');
    expect(text).toContain('error with secrets inside');
  });
});
