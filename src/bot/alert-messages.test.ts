import { beforeAll, describe, expect, it } from 'vitest';
import { loadCommands } from '../command/catalogue.ts';
import type { CheckReport } from '../ops/check.ts';
import type { JobAlert, OutboxItem } from '../schedule/outcome.ts';
import { discordPoster, outboxMessage } from './alert-messages.ts';
import { learnCommands } from './front-hints.ts';
import { colours } from './render.ts';

beforeAll(async () => {
  // As the router does at start: hints become the slash commands the bot has.
  learnCommands(await loadCommands());
});

const oncall = '7';
const drift: JobAlert = {
  kind: 'drift',
  severity: 'critical',
  subject: 'DNS drift in example.com: 1 record',
  message: 'DNS drift in example.com: _dmarc.example.com TXT. If the new value is right: mailops dns-diff example.com --accept',
  facts: [
    {
      label: '_dmarc.example.com TXT',
      text: 'differs from the accepted state',
      detail: 'expected: "v=DMARC1; p=reject"\nactual:   "v=DMARC1; p=none"',
    },
  ],
};

describe('an alert in Discord', () => {
  it('a critical alert mentions the on-call role, and only it; its facts are fields; hints become slash commands', () => {
    const message = outboxMessage({ type: 'alert', alert: drift }, oncall) as {
      content: string;
      embeds: Array<{ color: number; description: string; fields: Array<{ name: string; value: string }> }>;
      allowed_mentions: unknown;
    };
    expect(message.content).toBe('🔀 <@&7> **DNS drift in example.com: 1 record**');
    expect(message.allowed_mentions).toEqual({ parse: [], roles: [oncall] });
    expect(message.embeds[0]?.color).toBe(colours.fail);
    expect(message.embeds[0]?.description).toContain('/mail dns-diff domain:example.com accept:true');
    expect(message.embeds[0]?.fields).toEqual([
      {
        name: '_dmarc.example.com TXT',
        value: 'differs from the accepted state\n```\nexpected: "v=DMARC1; p=reject"\nactual:   "v=DMARC1; p=none"\n```',
      },
    ]);
  });

  it('an escalation is louder; an alert that is not critical mentions nobody', () => {
    const escalation = outboxMessage(
      {
        type: 'alert',
        alert: { ...drift, kind: 'renewal-failed', escalated: true, subject: 'mail.example.com: certificate renewal STILL FAILING' },
      },
      oncall
    ) as { content: string };
    expect(escalation.content).toBe('❌ <@&7> 🚨🚨 **ESCALATION — mail.example.com: certificate renewal STILL FAILING** 🚨🚨');
    const recovery = outboxMessage(
      {
        type: 'alert',
        alert: { kind: 'recovery', severity: 'resolved', subject: 'DNS of example.com matches again', message: 'It matches.' },
      },
      oncall
    ) as { content: string; embeds: Array<{ color: number }>; allowed_mentions: unknown };
    expect(recovery.content).toBe('✅ **DNS of example.com matches again**');
    expect(recovery.allowed_mentions).toEqual({ parse: [] });
    expect(recovery.embeds[0]?.color).toBe(colours.ok);
  });
});

describe('the health report in Discord', () => {
  const checks: CheckReport = {
    domain: 'example.com',
    ok: false,
    worst: 'fail',
    summary: 'Gmail: requirements not met',
    hostname: 'mail.example.com',
    requirements: [],
    checks: [
      { id: 'spf', status: 'pass', summary: 'authorised' },
      { id: 'tls', port: 25, status: 'fail', summary: 'expired', fix: 'mailops cert-renew' },
    ],
  } as unknown as CheckReport;

  it('is the check embed of the domain, failures first, with the host in the footer and nobody mentioned', () => {
    const message = outboxMessage(
      { type: 'report', report: { domain: 'example.com', host: 'mail.example.com: chasquid 1.15 running', checks } },
      oncall
    ) as {
      embeds: Array<{ title: string; fields: Array<{ name: string; value: string }>; footer: { text: string } }>;
      allowed_mentions: unknown;
    };
    expect(message.embeds[0]?.title).toContain('example.com');
    expect(message.embeds[0]?.fields.map((field) => field.name)).toEqual(['❌ tls 25', '✅ spf']);
    expect(message.embeds[0]?.fields[0]?.value).toContain('/mail cert-renew');
    expect(message.embeds[0]?.footer.text).toBe('mail.example.com: chasquid 1.15 running');
    expect(message.allowed_mentions).toEqual({ parse: [] });
  });

  it('says why a domain could not be checked', () => {
    const message = outboxMessage(
      { type: 'report', report: { domain: 'example.com', host: 'the mail host could not be reached', error: 'DNS timed out' } },
      oncall
    ) as { embeds: Array<{ title: string; description: string; footer: { text: string } }> };
    expect(message.embeds[0]).toMatchObject({
      title: '❌ example.com: could not be checked',
      description: 'DNS timed out',
      footer: { text: 'the mail host could not be reached' },
    });
  });
});

describe('the poster', () => {
  it('posts each item rendered, with its nonce and enforce_nonce, and a message rendered by an earlier version as it is', async () => {
    const requests: Array<{ route: string; body: Record<string, unknown> }> = [];
    const rest = {
      post: async (route: string, options?: { body?: unknown }) => {
        requests.push({ route: route, body: options?.body as Record<string, unknown> });
        return { id: String(requests.length) };
      },
    };
    const poster = discordPoster(rest, oncall);
    const items: OutboxItem[] = [
      { type: 'notice', text: 'Slow job: health is still running' },
      { type: 'rendered', body: { content: 'as stored', allowed_mentions: { parse: [] } } },
    ];
    expect(await poster.post({ channelId: '11', nonce: 'n1', item: items[0] as OutboxItem })).toBe('1');
    expect(await poster.post({ channelId: '12', nonce: 'n2', item: items[1] as OutboxItem })).toBe('2');
    expect(requests).toEqual([
      {
        route: '/channels/11/messages',
        body: { content: 'ℹ️ Slow job: health is still running', allowed_mentions: { parse: [] }, nonce: 'n1', enforce_nonce: true },
      },
      { route: '/channels/12/messages', body: { content: 'as stored', allowed_mentions: { parse: [] }, nonce: 'n2', enforce_nonce: true } },
    ]);
  });
});
