import { describe, expect, it } from 'vitest';
import { defaultReportLimits, describeBytes } from './limits.ts';

describe('report limits', () => {
  it('default to sizes far above real reports and far below what hurts', () => {
    expect(defaultReportLimits).toEqual({
      maxMessageBytes: 10 * 1024 * 1024,
      maxAttachmentBytes: 5 * 1024 * 1024,
      maxUncompressedBytes: 20 * 1024 * 1024,
      maxRecords: 100_000,
      maxArchiveEntries: 5,
    });
    expect(Object.isFrozen(defaultReportLimits)).toBe(true);
  });

  it('describe sizes as an operator reads them, never rounding a cap up', () => {
    expect(describeBytes(20 * 1024 * 1024)).toBe('20 MiB');
    expect(describeBytes(1.5 * 1024 * 1024)).toBe('1.5 MiB');
    expect(describeBytes(2 * 1024 * 1024 - 1)).toBe('1.9 MiB');
    expect(describeBytes(4096)).toBe('4 KiB');
    expect(describeBytes(4095)).toBe('3.9 KiB');
    expect(describeBytes(1000)).toBe('1000 bytes');
  });
});
