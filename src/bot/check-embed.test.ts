import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../ops/check.ts';
import { checkEmbed } from './check-embed.ts';
import { colours, fitEmbeds } from './render.ts';

const report: CheckReport = {
  domain: 'example.com',
  ok: false,
  worst: 'fail',
  hostname: 'mail.example.com',
  summary: 'Gmail: no (SPF fails) · Yahoo: no · Outlook: no',
  requirements: {
    gmail: { status: 'not-met', met: false, missing: ['SPF'], unknown: [] },
    yahoo: { status: 'not-met', met: false, missing: ['SPF'], unknown: [] },
    outlook: { status: 'not-met', met: false, missing: ['SPF'], unknown: [] },
  },
  checks: [
    { id: 'mx', status: 'pass', summary: 'MX 10 mail.example.com.' },
    { id: 'spf', status: 'fail', summary: 'no SPF record', fix: 'example.com. 3600 IN TXT "v=spf1 mx -all"' },
    { id: 'dmarc', status: 'warn', summary: 'p=none', fix: '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine"' },
    { id: 'tls', status: 'pass', summary: 'valid for 60 days', port: 465 },
    { id: 'mta-sts', status: 'skip', summary: 'not published', hint: 'Publish an MTA-STS policy to require TLS from senders.' },
    { id: 'e2e', status: 'fail', summary: 'x'.repeat(2000), fix: 'y'.repeat(3000) },
  ],
};

describe('the check embed', () => {
  it('marks a check that could not look something up as such (⏳), not as a failure of the domain', () => {
    const embed = checkEmbed({
      ...report,
      checks: [
        {
          id: 'spf',
          status: 'fail',
          temperror: true,
          summary: 'could not be checked (temperror): DNS timed out',
          fix: 'Make sure the name servers answer.',
        },
      ],
    });
    expect(embed.fields?.map((field) => field.name)).toEqual(['⏳ spf']);
  });

  it('is coloured by the worst status and lists failures first, with their fixes as code', () => {
    const embed = checkEmbed(report);
    expect(embed.color).toBe(colours.fail);
    expect(embed.title).toBe('❌ example.com: 2 failed, 1 warning');
    expect(embed.fields?.map((field) => field.name)).toEqual(['❌ spf', '❌ e2e', '⚠️ dmarc', '✅ mx', '✅ tls 465', '➖ mta-sts']);
    expect(embed.fields?.[0]?.value).toBe('no SPF record\n```\nexample.com. 3600 IN TXT "v=spf1 mx -all"\n```');
    expect(embed.description).toContain('Gmail: no');
  });

  it("keeps every field within Discord's limits, code blocks closed", () => {
    const [embed] = fitEmbeds([checkEmbed(report)]);
    const long = embed?.fields?.find((field) => field.name === '❌ e2e');
    expect(long?.value.length).toBeLessThanOrEqual(1024);
    expect(long?.value.endsWith('```')).toBe(true);
  });

  it('says so when everything passes', () => {
    const clean = checkEmbed({ ...report, ok: true, worst: 'pass', checks: [{ id: 'mx', status: 'pass', summary: 'fine' }] });
    expect(clean.title).toBe('✅ example.com: every check passes');
    expect(clean.color).toBe(colours.ok);
  });

  it('says once that the mail host could not be reached, and lists the checks that need it in one field', () => {
    const hostChecks = (['mx', 'spf', 'dkim', 'e2e'] as const).map((id) => ({
      id,
      status: 'fail' as const,
      temperror: true,
      needsHost: true,
      summary: 'could not be checked (temperror): it needs the mail host, which could not be reached',
      fix: 'Make the mail host reachable.',
    }));
    const embed = checkEmbed({
      ...report,
      hostname: undefined,
      hostError: {
        code: 'host-unreachable',
        message: 'Cannot connect to the mail host 127.0.0.1:1: ECONNREFUSED.',
        hint: 'Is sshd running?',
        reachable: false,
      },
      checks: [{ id: 'dmarc', status: 'pass', summary: 'p=reject' }, ...hostChecks],
    });
    expect(embed.title).toBe('❌ example.com: the mail host could not be reached');
    expect(embed.fields?.map((field) => field.name)).toEqual(['✅ dmarc', '⏳ unknown: mx, spf, dkim, e2e']);
    expect(embed.description?.match(/ECONNREFUSED/g)).toHaveLength(1);
    expect(JSON.stringify(embed.fields)).not.toContain('ECONNREFUSED');
  });

  it('counts a check that could not be completed as unknown in the title, not as failed', () => {
    const embed = checkEmbed({
      ...report,
      checks: [
        { id: 'mx', status: 'pass', summary: 'fine' },
        {
          id: 'spf',
          status: 'fail',
          temperror: true,
          summary: 'could not be checked (temperror): DNS timed out',
          fix: 'Make sure the name servers answer.',
        },
      ],
    });
    expect(embed.title).toBe('❌ example.com: no failures, 1 unknown, 0 warnings');
  });

  it('names an internationalised domain in both forms', () => {
    expect(checkEmbed({ ...report, domain: 'xn--bcher-kva.example' }).title).toBe(
      '❌ bücher.example (xn--bcher-kva.example): 2 failed, 1 warning'
    );
  });
});
