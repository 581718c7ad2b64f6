import { describe, expect, it } from 'vitest';
import { parseChasquidConf } from './config-file.ts';
import { tlsListeners } from './listeners.ts';

describe('chasquid TLS listeners', () => {
  it('are 25, 587 and 465 on the hostname with socket activation (the default)', () => {
    expect(tlsListeners(parseChasquidConf('hostname: "mail.example.com"\n'), 'mail.example.com')).toEqual([
      { service: 'smtp', mode: 'starttls', host: 'mail.example.com', port: 25 },
      { service: 'submission', mode: 'starttls', host: 'mail.example.com', port: 587 },
      { service: 'submission-tls', mode: 'tls', host: 'mail.example.com', port: 465 },
    ]);
  });

  it('follow explicit addresses; a wildcard host is reached at the hostname', () => {
    const settings = parseChasquidConf(
      [
        'smtp_address: ":25"',
        'smtp_address: "[2001:db8::1]:25"',
        'submission_address: "0.0.0.0:2587"',
        'submission_over_tls_address: "192.0.2.7:465"',
        'submission_over_tls_address: "192.0.2.7:465"',
      ].join('\n')
    );
    expect(tlsListeners(settings, 'mx.example.org')).toEqual([
      { service: 'smtp', mode: 'starttls', host: 'mx.example.org', port: 25 },
      { service: 'smtp', mode: 'starttls', host: '2001:db8::1', port: 25 },
      { service: 'submission', mode: 'starttls', host: 'mx.example.org', port: 2587 },
      { service: 'submission-tls', mode: 'tls', host: '192.0.2.7', port: 465 },
    ]);
  });
});
