// How much of a received report mailops is willing to read.
//
// Reports arrive by mail from anyone who can send to the report address, so every size is bounded before the work it
// would cost is done: the message, each attachment as decoded, everything decompressed out of one message together,
// the rows of one report, and the entries of a zip. Real reports are far below these: a large receiver's daily
// aggregate report for a busy domain is a few hundred KiB of XML and a few thousand rows.

export interface ReportLimits {
  /** The whole message as received, headers included. */
  maxMessageBytes: number;
  /** One attachment after its transfer encoding (base64) is undone, still compressed. */
  maxAttachmentBytes: number;
  /** Everything decompressed or read as XML/JSON from one message, all its report parts together. */
  maxUncompressedBytes: number;
  /** <record> rows of one DMARC report; policies and failure details of one TLS report. */
  maxRecords: number;
  /** Entries of one zip attachment (real reporters put exactly one XML file in it). */
  maxArchiveEntries: number;
}

const mebibyte = 1024 * 1024;

export const defaultReportLimits: ReportLimits = Object.freeze({
  maxMessageBytes: 10 * mebibyte,
  maxAttachmentBytes: 5 * mebibyte,
  maxUncompressedBytes: 20 * mebibyte,
  maxRecords: 100_000,
  maxArchiveEntries: 5,
});

/** "20 MiB", "512 KiB", "300 bytes": a limit as an operator reads it in a rejection reason. */
export function describeBytes(bytes: number): string {
  // Rounded down, so that "past 3.9 KiB" stays true of a 4095-byte cap (rounding up would print the next round size).
  const tenths = (unit: number) => (Math.floor((bytes / unit) * 10) / 10).toFixed(1);
  if (bytes >= mebibyte && bytes % mebibyte === 0) return `${bytes / mebibyte} MiB`;
  if (bytes >= mebibyte) return `${tenths(mebibyte)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  if (bytes >= 1024) return `${tenths(1024)} KiB`;
  return `${bytes} bytes`;
}
