import { describe, expect, it } from 'vitest';
import type { CertStatusResult, InstalledCertificate, ListenerStatus } from '../ops/cert-status.ts';
import { certificatesEmbed, renewalEmbed } from './certificate-embeds.ts';
import { colours, fitEmbeds } from './render.ts';

const notAfter = '2025-09-01T00:00:00.000Z';
const certificate: InstalledCertificate = {
  name: 'mail.example.com',
  names: ['mail.example.com'],
  issuer: 'R11',
  notBefore: '2025-06-03T00:00:00.000Z',
  notAfter,
  daysLeft: 60,
  renewDue: false,
  renewReason: 'more than a third of its lifetime is left',
  served: [25, 465, 587],
  fingerprint: 'AA',
  pairProblems: [],
};
const listener = (
  port: number,
  served: ListenerStatus['served'] = {
    names: ['mail.example.com'],
    issuer: 'R11',
    notAfter,
    fingerprint: 'AA',
    installed: 'mail.example.com',
  }
): ListenerStatus => ({
  service: port === 465 ? 'submission-tls' : port === 25 ? 'smtp' : 'submission',
  host: '192.0.2.1',
  port,
  served,
  error: undefined,
});
const status = (changes: Partial<CertStatusResult> = {}): CertStatusResult => ({
  hostname: 'mail.example.com',
  certificates: [certificate],
  listeners: [listener(25), listener(465), listener(587)],
  ...changes,
});

describe('the cert-status embed', () => {
  it('is green when every listener serves an installed certificate that is not due', () => {
    const embed = certificatesEmbed(status());
    expect(embed.color).toBe(colours.ok);
    expect(embed.title).toBe('✅ Certificates of mail.example.com');
    expect(embed.fields?.map((field) => field.name)).toEqual([
      '✅ mail.example.com',
      '✅ smtp 192.0.2.1:25',
      '✅ submission-tls 192.0.2.1:465',
      '✅ submission 192.0.2.1:587',
    ]);
    expect(embed.fields?.[0]?.value).toContain('Expires <t:1756684800:f> (<t:1756684800:R>), 60 days left');
    expect(embed.fields?.[0]?.value).toContain('Served on ports 25, 465, 587');
  });

  it('is yellow when renewal is due, red when a listener fails or serves a certificate that is not installed', () => {
    expect(
      certificatesEmbed(status({ certificates: [{ ...certificate, renewDue: true, renewReason: 'less than a third left' }] })).color
    ).toBe(colours.warn);
    const down = certificatesEmbed(
      status({ listeners: [listener(25), { ...listener(465), served: undefined, error: 'connection refused' }, listener(587)] })
    );
    expect(down.color).toBe(colours.fail);
    expect(down.fields?.find((field) => field.name === '❌ submission-tls 192.0.2.1:465')?.value).toBe('**Error**: connection refused');
    const foreign = certificatesEmbed(
      status({ listeners: [listener(25, { names: ['other'], issuer: 'X', notAfter, fingerprint: 'BB', installed: undefined })] })
    );
    expect(foreign.color).toBe(colours.fail);
    expect(foreign.fields?.at(-1)?.value).toMatch(/^\*\*Not an installed certificate\*\*: other, X/);
  });

  it('is red, and says how to get one, when nothing is installed', () => {
    const embed = certificatesEmbed(status({ certificates: [], listeners: [] }));
    expect(embed.color).toBe(colours.fail);
    expect(embed.description).toBe('No certificate is installed. Get one with `/mail cert-renew`.');
  });

  it("fits Discord's limits with many listeners", () => {
    const many = status({ listeners: Array.from({ length: 40 }, (_, index) => listener(1000 + index)) });
    expect(fitEmbeds([certificatesEmbed(many)])[0]?.fields?.length).toBeLessThanOrEqual(25);
  });
});

describe('the cert-renew embed', () => {
  it('shows the new certificate', () => {
    const embed = renewalEmbed({
      renewed: true,
      name: 'mail.example.com',
      names: ['mail.example.com', 'example.com'],
      issuer: 'R11',
      notAfter,
      reason: 'forced',
      served: [25, 465, 587],
    });
    expect(embed).toMatchObject({ title: 'Certificate renewed for mail.example.com', color: colours.ok });
    expect(embed.fields).toContainEqual({ name: 'Served on', value: 'ports 25, 465, 587', inline: true });
    expect(embed.fields).toContainEqual({ name: 'Names', value: 'mail.example.com, example.com' });
  });

  it('says why nothing was done when renewal is not due', () => {
    const embed = renewalEmbed({
      renewed: false,
      name: 'mail.example.com',
      names: [],
      issuer: 'R11',
      notAfter,
      reason: 'not due: more than a third of its lifetime is left',
    });
    expect(embed).toMatchObject({
      title: 'Certificate for mail.example.com not renewed',
      color: colours.info,
      description: 'Not due: more than a third of its lifetime is left.\nIt expires <t:1756684800:f> (<t:1756684800:R>).',
    });
  });
});
