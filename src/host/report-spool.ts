// The report spool on the mail host: DMARC and TLS reports mailed to mailops's report address are stored there, one
// file per message, by a small spooler that chasquid runs through a pipe alias (deploy/mailops-host's report-spooler
// verb installs it; its text lives in mailops-host, never here, so nothing we send can become a program on the host).
//
// The spool is <data_dir>/mailops-reports/<name>.eml, written by chasquid's own user; mailops lists and reads it with
// RemoteFiles and removes what it has handled with discardSpooledReport.

import { failedError } from '../errors.ts';
import type { HostVerbs } from './verbs.ts';

/**
 * Installs (or repairs) the spooler on the host and returns its absolute path, which the report address's pipe alias
 * names. Changes the host, so it runs inside the host lock.
 */
export async function installReportSpooler(verbs: HostVerbs): Promise<string> {
  const result = await verbs.callOk(
    'report-spooler',
    [],
    {},
    'Check that the mail host runs this version of mailops-host (run host-setup.sh again).'
  );
  const spoolerPath = result.stdout.toString('utf8').trim();
  // chasquid splits a pipe alias on spaces: a path with white space could not be named there.
  if (!spoolerPath.startsWith('/') || /\s/.test(spoolerPath)) {
    throw failedError(
      'report-spooler-path',
      `mailops-host installed the report spooler at an unusable path: ${JSON.stringify(spoolerPath)}.`,
      {
        hint: 'Use a CHASQUID_DIR without white space, and run host-setup.sh again so that the host runs this version of mailops-host.',
      }
    );
  }
  return spoolerPath;
}

/** Removes one spooled report (a <data_dir>/mailops-reports/<name>.eml file); done also when it is already gone. */
export async function discardSpooledReport(verbs: HostVerbs, file: string): Promise<void> {
  await verbs.callOk('discard', [file], {}, 'Only files mailops spooled (<data_dir>/mailops-reports/<name>.eml) can be discarded.');
}
