// Opening the compressed attachments reports come in: gzip (RFC 7489 section 7.2.1.1, RFC 8460 section 5.3) and the
// zip files Google and others send instead.
//
// Nothing here trusts what an archive says about itself. Output is counted as it is produced and the work stops at the
// cap, so a zip or gzip bomb costs at most the cap in memory and the time to inflate that much. Sizes in zip headers
// are only used to refuse early; a header that understates its entry is caught by yauzl's size validation and by our
// own count. Archives inside archives, encrypted entries and more entries than a report needs are refused outright.

import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import yauzl from 'yauzl';
import { ReportFormatError } from './format-error.ts';
import { describeBytes } from './limits.ts';
import { quoteName } from './report-values.ts';

const gunzipAsync = promisify(gunzip);

export interface ZipEntryContent {
  name: string;
  content: Buffer;
}

/** Names that say "another archive": reports never nest them, bombs do. */
const archiveName = /\.(zip|gz|gzip|tgz|tar|bz2|xz|7z|rar|zst)$/i;

/** What kind of archive the bytes are by their first bytes (magic numbers), whatever the file is called. */
export function archiveKind(bytes: Buffer): 'zip' | 'gzip' | undefined {
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  return undefined;
}

/**
 * The bytes inside a gzip file, or a ReportFormatError. `label` names the attachment in the reason ("the gzip attachment
 * x.xml.gz"). The output is capped by zlib itself (maxOutputLength), so a bomb stops at `maxOutputBytes`.
 */
export async function gunzipCapped(compressed: Buffer, maxOutputBytes: number, label: string): Promise<Buffer> {
  let output: Buffer;
  try {
    output = await gunzipAsync(compressed, { maxOutputLength: Math.max(1, maxOutputBytes) });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ReportFormatError(`${label} expands past ${describeBytes(maxOutputBytes)}`);
    }
    throw new ReportFormatError(`${label} is not a valid gzip file (${(error as Error).message})`);
  }
  if (archiveKind(output) !== undefined) throw new ReportFormatError(`${label} holds another archive inside; mailops opens one level only`);
  return output;
}

/**
 * The XML files inside a zip, or a ReportFormatError. Entries that are neither XML nor an archive (a stray readme) are
 * skipped; every entry counts against `maxEntries`, and all entries together against `maxOutputBytes`.
 */
export async function unzipCapped(
  archive: Buffer,
  limits: { maxEntries: number; maxOutputBytes: number },
  label: string
): Promise<ZipEntryContent[]> {
  let zipfile: yauzl.ZipFile;
  try {
    zipfile = await yauzl.fromBufferPromise(archive, {
      lazyEntries: true,
      validateEntrySizes: true,
      strictFileNames: false,
      decodeStrings: true,
    });
  } catch (error) {
    throw new ReportFormatError(`${label} is not a valid zip file (${(error as Error).message})`);
  }
  try {
    // The end-of-central-directory record's count lets us refuse before reading any entry; a liar about it is still
    // caught below, entry by entry.
    if (zipfile.entryCount > limits.maxEntries) {
      throw new ReportFormatError(
        `${label} holds ${zipfile.entryCount} files; a report zip holds one (at most ${limits.maxEntries} accepted)`
      );
    }
    const files: ZipEntryContent[] = [];
    let entriesSeen = 0;
    let bytesOut = 0;
    for (let entry = await nextEntry(zipfile, label); entry !== null; entry = await nextEntry(zipfile, label)) {
      entriesSeen++;
      if (entriesSeen > limits.maxEntries) {
        throw new ReportFormatError(`${label} holds more than ${limits.maxEntries} files; a report zip holds one`);
      }
      if (entry.fileName.endsWith('/')) continue;
      const name = quoteName(entry.fileName);
      if (entry.isEncrypted()) throw new ReportFormatError(`${label} holds an encrypted file (${name}); reports are never encrypted`);
      if (archiveName.test(entry.fileName))
        throw new ReportFormatError(`${label} holds another archive (${name}); mailops opens one level only`);
      if (!/\.xml$/i.test(entry.fileName)) continue;
      const budget = limits.maxOutputBytes - bytesOut;
      if (entry.uncompressedSize > budget) {
        throw new ReportFormatError(
          `${label} expands past ${describeBytes(limits.maxOutputBytes)} (${name} declares ${describeBytes(entry.uncompressedSize)})`
        );
      }
      const content = await readEntryCapped(zipfile, entry, budget, { label, cap: limits.maxOutputBytes });
      if (archiveKind(content) !== undefined)
        throw new ReportFormatError(`${label} holds another archive (${name}); mailops opens one level only`);
      bytesOut += content.length;
      files.push({ name: entry.fileName, content });
    }
    if (files.length === 0) throw new ReportFormatError(`${label} holds no .xml file`);
    return files;
  } finally {
    zipfile.close();
  }
}

function nextEntry(zipfile: yauzl.ZipFile, label: string): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zipfile.off('entry', onEntry);
      zipfile.off('end', onEnd);
      zipfile.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new ReportFormatError(`${label} is not a valid zip file (${error.message})`));
    };
    zipfile.on('entry', onEntry);
    zipfile.on('end', onEnd);
    zipfile.on('error', onError);
    zipfile.readEntry();
  });
}

/** One entry's bytes, counted as they are inflated; the stream is destroyed the moment the count passes `budget`. */
async function readEntryCapped(
  zipfile: yauzl.ZipFile,
  entry: yauzl.Entry,
  budget: number,
  said: { label: string; cap: number }
): Promise<Buffer> {
  const pastCap = () => new ReportFormatError(`${said.label} expands past ${describeBytes(said.cap)}`);
  let stream;
  try {
    stream = await zipfile.openReadStreamPromise(entry);
  } catch (error) {
    throw new ReportFormatError(`${said.label} has an unreadable file ${quoteName(entry.fileName)} (${(error as Error).message})`);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > budget) throw pastCap();
      chunks.push(chunk);
    }
  } catch (error) {
    stream.destroy();
    if (error instanceof ReportFormatError) throw error;
    const message = (error as Error).message;
    // yauzl's validateEntrySizes: the entry inflated to more (or fewer) bytes than its header declared.
    if (/too many bytes|too few bytes/i.test(message)) {
      throw new ReportFormatError(
        `${said.label} holds ${quoteName(entry.fileName)}, which does not inflate to the ${describeBytes(entry.uncompressedSize)} its header declares (refused as a likely zip bomb)`
      );
    }
    throw new ReportFormatError(`${said.label} has an unreadable file ${quoteName(entry.fileName)} (${message})`);
  }
  return Buffer.concat(chunks, length);
}
