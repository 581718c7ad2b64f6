// Certificate results as Discord embeds: a renewal (/mail cert-renew) and the certificates installed and served
// (/mail cert-status). The status embed is coloured by its worst finding: a listener that serves nothing or serves a
// certificate that is not installed, an unreadable or expired certificate (red); a renewal that is due (yellow).

import type { APIEmbed, APIEmbedField } from 'discord.js';
import type { CertRenewResult } from '../ops/cert-renew.ts';
import type { CertStatusResult, InstalledCertificate, ListenerStatus } from '../ops/cert-status.ts';
import { colours, discordTime } from './render.ts';

const ports = (served: readonly number[]) =>
  served.length === 0 ? '**no port**' : `port${served.length === 1 ? '' : 's'} ${served.join(', ')}`;

function expiry(notAfter: string | undefined): string {
  return notAfter === undefined ? 'unknown' : `${discordTime(notAfter)} (${discordTime(notAfter, 'relative')})`;
}

export function renewalEmbed(result: CertRenewResult): APIEmbed {
  if (!result.renewed) {
    return {
      title: `Certificate for ${result.name} not renewed`,
      color: colours.info,
      description: `${result.reason.replace(/^not due: /, 'Not due: ')}.\nIt expires ${expiry(result.notAfter)}.`,
      footer: { text: 'Run /mail cert-renew force:true to renew it anyway.' },
    };
  }
  return {
    title: `Certificate renewed for ${result.name}`,
    color: colours.ok,
    fields: [
      { name: 'Names', value: result.names.join(', ') },
      { name: 'Issuer', value: result.issuer ?? 'unknown', inline: true },
      { name: 'Valid until', value: expiry(result.notAfter), inline: true },
      { name: 'Served on', value: ports(result.served), inline: true },
      { name: 'Why', value: result.reason },
    ],
  };
}

type Finding = 'ok' | 'warn' | 'fail';
const marks: Record<Finding, string> = { ok: '✅', warn: '⚠️', fail: '❌' };
const findingColours: Record<Finding, number> = { ok: colours.ok, warn: colours.warn, fail: colours.fail };

function certificateFinding(certificate: InstalledCertificate): Finding {
  // A pair whose key does not match: chasquid will not start with it on its next restart.
  if (
    certificate.notAfter === undefined ||
    (certificate.daysLeft ?? 0) <= 0 ||
    certificate.pairProblems.some((problem) => !/ does not cover /.test(problem))
  )
    return 'fail';
  return certificate.renewDue ? 'warn' : 'ok';
}

function listenerFinding(listener: ListenerStatus): Finding {
  return listener.served === undefined || listener.served.installed === undefined ? 'fail' : 'ok';
}

function certificateField(certificate: InstalledCertificate): APIEmbedField {
  const name = `${marks[certificateFinding(certificate)]} ${certificate.name}`;
  if (certificate.notAfter === undefined) return { name, value: `Unreadable: ${certificate.renewReason}.` };
  return {
    name,
    value: [
      `Names: ${certificate.names.join(', ')}`,
      `Issuer: ${certificate.issuer ?? 'unknown'}`,
      `Expires ${expiry(certificate.notAfter)}, ${certificate.daysLeft} days left`,
      certificate.renewDue ? `**Renewal due**: ${certificate.renewReason}` : `Renewal not due: ${certificate.renewReason}`,
      ...(certificate.renewalWindow === undefined
        ? []
        : [`CA's renewal window: ${expiry(certificate.renewalWindow.start)} to ${expiry(certificate.renewalWindow.end)}`]),
      ...(certificate.profile === undefined ? [] : [`Profile: ${certificate.profile}`]),
      `Served on ${ports(certificate.served)}`,
    ].join('\n'),
  };
}

function listenerField(listener: ListenerStatus): APIEmbedField {
  const name = `${marks[listenerFinding(listener)]} ${listener.service} ${listener.host}:${listener.port}`;
  const { served } = listener;
  if (served === undefined) return { name, value: `**Error**: ${listener.error ?? 'no certificate'}` };
  const which = served.installed === undefined ? '**Not an installed certificate**' : `Serves ${served.installed}`;
  return { name, value: `${which}: ${served.names.join(', ')}, ${served.issuer}, expires ${expiry(served.notAfter)}` };
}

export function certificatesEmbed(result: CertStatusResult): APIEmbed {
  const findings = [...result.certificates.map(certificateFinding), ...result.listeners.map(listenerFinding)];
  const worst: Finding = result.certificates.length === 0 || findings.includes('fail') ? 'fail' : findings.includes('warn') ? 'warn' : 'ok';
  return {
    title: `${marks[worst]} Certificates of ${result.hostname}`,
    color: findingColours[worst],
    description:
      result.certificates.length === 0
        ? 'No certificate is installed. Get one with `/mail cert-renew`.'
        : `Installed in the certificates directory, then what each TLS listener serves for ${result.hostname}.`,
    fields: [...result.certificates.map(certificateField), ...result.listeners.map(listenerField)],
  };
}
