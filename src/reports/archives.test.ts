import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildZip } from '../../test/reports/fixtures.ts';
import { archiveKind, gunzipCapped, unzipCapped } from './archives.ts';
import { ReportFormatError } from './format-error.ts';

const xml = Buffer.from('<?xml version="1.0"?><feedback></feedback>');
const limits = { maxEntries: 5, maxOutputBytes: 1024 * 1024 };

async function refusal(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught
  );
  expect(error).toBeInstanceOf(ReportFormatError);
  return (error as Error).message;
}

describe('archives', () => {
  it('tells zip and gzip apart by their first bytes', () => {
    expect(archiveKind(buildZip([{ name: 'a.xml', content: xml }]))).toBe('zip');
    expect(archiveKind(gzipSync(xml))).toBe('gzip');
    expect(archiveKind(xml)).toBeUndefined();
    expect(archiveKind(Buffer.alloc(1))).toBeUndefined();
  });

  it('gunzips within the cap and refuses past it', async () => {
    expect(await gunzipCapped(gzipSync(xml), xml.length, 'the gzip attachment')).toEqual(xml);
    expect(await refusal(gunzipCapped(gzipSync(Buffer.alloc(4096)), 4095, 'the gzip attachment'))).toBe(
      'the gzip attachment expands past 3.9 KiB'
    );
    expect(await refusal(gunzipCapped(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 100, 'the gzip attachment'))).toMatch(
      /^the gzip attachment is not a valid gzip file \(/
    );
  });

  it('unzips the XML files of a zip, skipping directories and stray files', async () => {
    const zip = buildZip([
      { name: 'reports/', content: Buffer.alloc(0) },
      { name: 'reports/a.xml', content: xml },
      { name: 'README.txt', content: Buffer.from('hello') },
    ]);
    expect(await unzipCapped(zip, limits, 'the zip attachment')).toEqual([{ name: 'reports/a.xml', content: xml }]);
  });

  it('refuses a zip with no XML in it, and bytes that are not a zip', async () => {
    expect(await refusal(unzipCapped(buildZip([{ name: 'a.txt', content: xml }]), limits, 'the zip attachment'))).toBe(
      'the zip attachment holds no .xml file'
    );
    expect(await refusal(unzipCapped(Buffer.from('PK\u0003\u0004 but nothing else'), limits, 'the zip attachment'))).toMatch(
      /^the zip attachment is not a valid zip file \(/
    );
  });

  it('counts the bytes of all entries together against the cap', async () => {
    const zip = buildZip([
      { name: 'a.xml', content: Buffer.alloc(600, 0x20) },
      { name: 'b.xml', content: Buffer.alloc(600, 0x20) },
    ]);
    expect(await refusal(unzipCapped(zip, { maxEntries: 5, maxOutputBytes: 1000 }, 'the zip attachment'))).toBe(
      'the zip attachment expands past 1000 bytes ("b.xml" declares 600 bytes)'
    );
  });

  it('refuses an entry that inflates to more than its header says', async () => {
    const zip = buildZip([{ name: 'a.xml', content: Buffer.alloc(100_000, 0x20), declaredSize: 10 }]);
    expect(await refusal(unzipCapped(zip, limits, 'the zip attachment'))).toBe(
      'the zip attachment holds "a.xml", which does not inflate to the 10 bytes its header declares (refused as a likely zip bomb)'
    );
  });

  it('refuses nested archives by name and by content', async () => {
    const inner = gzipSync(xml);
    expect(await refusal(unzipCapped(buildZip([{ name: 'a.xml.gz', content: inner }]), limits, 'the zip attachment'))).toBe(
      'the zip attachment holds another archive ("a.xml.gz"); mailops opens one level only'
    );
    expect(await refusal(unzipCapped(buildZip([{ name: 'a.xml', content: inner }]), limits, 'the zip attachment'))).toBe(
      'the zip attachment holds another archive ("a.xml"); mailops opens one level only'
    );
  });
});
