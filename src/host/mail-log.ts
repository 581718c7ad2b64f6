// chasquid's mail log, read piece by piece through mailops-host's `mail-log INODE OFFSET` verb (see the top of
// deploy/mailops-host): the caller keeps where it stopped (the file's inode and the offset after the last byte it
// got) and asks for what came after. The host serves the rest of that file even after a rotation (from <log>.1), so
// lines written just before a rotation are not lost; a new or truncated log is served from its start. It reads the
// log as chasquid's user, so a link planted there leads only where chasquid may go.

import { failedError } from '../errors.ts';
import { RemoteCommandError } from './transport.ts';
import { notFound, type HostVerbs } from './verbs.ts';

export type MailLogRead =
  /** chasquid logs to syslog (or its standard output): there is no file to read. */
  | { source: 'syslog' }
  /** The configured log file does not exist (yet). */
  | { source: 'missing' }
  /** `data` is the file's bytes from `start`; the next read starts at `start + data.length` of the file `inode`. */
  | { source: 'file'; inode: string; size: number; start: number; data: Buffer };

const header = /^file (\d+) (\d+) (\d+)$/;

/** The next piece of chasquid's mail log after `position` (inode "0" and offset 0 at first). At most 4 MiB at a time. */
export async function readMailLogPiece(verbs: HostVerbs, position: { inode: string; offset: number }): Promise<MailLogRead> {
  if (!/^\d+$/.test(position.inode) || !Number.isSafeInteger(position.offset) || position.offset < 0) {
    throw new Error(`Refusing a mail log position that is not two plain numbers: ${JSON.stringify(position)}`);
  }
  const result = await verbs.call('mail-log', [position.inode.replace(/^0+(?=\d)/, ''), String(position.offset)]);
  if (result.code === notFound) return { source: 'missing' };
  if (result.code !== 0) throw new RemoteCommandError('Reading the mail log', result);
  const newline = result.stdout.indexOf('\n');
  const firstLine = result.stdout.subarray(0, newline === -1 ? result.stdout.length : newline).toString('utf8');
  if (firstLine === 'syslog') return { source: 'syslog' };
  const match = header.exec(firstLine);
  if (newline === -1 || match === null) {
    throw failedError(
      'mail-log-answer',
      `mailops-host answered mail-log with something unexpected: ${JSON.stringify(firstLine.slice(0, 80))}.`,
      {
        hint: 'Run host-setup.sh again so that the host runs this version of mailops-host.',
      }
    );
  }
  const [, inode = '', size = '', start = ''] = match;
  return { source: 'file', inode, size: Number(size), start: Number(start), data: result.stdout.subarray(newline + 1) };
}
