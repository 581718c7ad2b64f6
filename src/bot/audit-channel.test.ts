import { describe, expect, it } from 'vitest';
import { auditText } from './audit-channel.ts';

describe('auditText', () => {
  it('says who ran what on which target, and how it went', () => {
    expect(auditText({ userId: '42', operation: 'user-add', target: 'i@example.com', outcome: 'ok' })).toBe(
      '✅ <@42> `/mail user-add` `i@example.com`: ok'
    );
    expect(auditText({ userId: '42', operation: 'cert-renew', target: '', outcome: 'failed', detail: 'acme-failed' })).toBe(
      '❌ <@42> `/mail cert-renew`: failed (acme-failed)'
    );
  });

  it('keeps whatever was typed inside inline code, on one line', () => {
    const text = auditText({
      userId: '7',
      operation: 'alias-set',
      target: '`@everyone`\n**bold**',
      outcome: 'refused',
      detail: 'no admin role',
    });
    expect(text).toBe("⛔ <@7> `/mail alias-set` `'@everyone'\\n**bold**`: refused (no admin role)");
  });
});
