// The report address of each managed domain (REPORT_ADDRESS@domain, which setup publishes in DMARC's and TLS-RPT's
// rua=): a pipe alias, owned by mailops, that hands each message to the spooler program mailops-host installs
// (<CHASQUID_DIR>/.mailops-bin/report-spool). chasquid runs it as its own user; it stores the message as one file in
// <data_dir>/mailops-reports/, where the reports job (src/ops/reports.ts) picks it up. mailops-host allows exactly
// this pipe line and no other (deploy/mailops-host: check_aliases), so the alias gives nobody a way to run anything.
//
// chasquid reloads aliases by itself (every 30 s), so no restart is needed.

import path from 'node:path';
import { parseChasquidConf, type ChasquidSettings } from '../chasquid/config-file.ts';
import { daemonAccount } from '../chasquid/daemon-access.ts';
import { DomainFiles } from '../chasquid/domain-files.ts';
import { installReportSpooler } from '../host/report-spool.ts';
import { applyChange } from './change.ts';
import { managedDomains, type OperationContext } from './context.ts';

/** Where the spooler keeps the messages it received. */
export function reportSpoolDirectory(settings: ChasquidSettings): string {
  return path.posix.join(settings.dataDir, 'mailops-reports');
}

/** Where mailops-host installs the spooler (it spells this path itself; this is only what mailops expects). */
export function reportSpoolerPath(chasquidDir: string): string {
  return path.posix.join(chasquidDir, '.mailops-bin', 'report-spool');
}

/** The pipe command of the report alias. */
export function reportPipe(chasquidDir: string, settings: ChasquidSettings): string {
  return `${reportSpoolerPath(chasquidDir)} ${reportSpoolDirectory(settings)}`;
}

export interface ReportInboxes {
  spoolDirectory: string;
  /** The domains whose report alias was created or repaired now. */
  created: string[];
}

async function chasquidSettings(context: OperationContext, files: DomainFiles): Promise<ChasquidSettings> {
  return parseChasquidConf((await files.read(files.paths.configFile))?.toString('utf8') ?? '');
}

/**
 * Makes sure every domain (MAIL_DOMAINS by default) has its report address, and the spool and spooler exist. Changes
 * nothing when all is in place; otherwise one audited change.
 */
export async function ensureReportInboxes(context: OperationContext, domains = managedDomains(context.config)): Promise<ReportInboxes> {
  const files = new DomainFiles(context.host, context.chasquidDir);
  const local = context.config.REPORT_ADDRESS;
  const settings = await chasquidSettings(context, files);
  const spoolDirectory = reportSpoolDirectory(settings);
  const pipe = reportPipe(context.chasquidDir, settings);
  if (/\s/.test(spoolDirectory) || /\s/.test(context.chasquidDir)) {
    // chasquid splits a pipe alias's command on spaces, with no quoting.
    throw new Error(
      `chasquid's data directory (${settings.dataDir}) or CHASQUID_DIR contains white space, which a pipe alias cannot carry; reports cannot be received.`
    );
  }
  const rules = await files.aliasRules();
  const missing: string[] = [];
  for (const domain of domains) {
    const loaded = await files.load(domain, rules);
    if (loaded.aliases.get(local)?.pipe !== pipe) missing.push(domain);
  }
  const [spool, spooler] = await Promise.all([
    context.host.files.list(spoolDirectory),
    context.host.files.stat(reportSpoolerPath(context.chasquidDir)),
  ]);
  if (missing.length === 0 && spool !== undefined && spooler !== undefined) return { spoolDirectory, created: [] };

  return applyChange(context, { operation: 'report-inbox', target: missing.length > 0 ? missing.join(',') : 'spool' }, async () => {
    const changedFiles: string[] = [];
    const installed = await installReportSpooler(context.host.verbs);
    if (installed !== reportSpoolerPath(context.chasquidDir)) {
      throw new Error(
        `mailops-host installed the report spooler at ${installed}, not at ${reportSpoolerPath(context.chasquidDir)}: mailops and mailops-host are of different versions.`
      );
    }
    const daemon = await daemonAccount(context.host, context.chasquidDir);
    await context.host.files.makeDirectory(spoolDirectory, { mode: 0o700, owner: `${daemon.user}:${daemon.group}` });
    const created: string[] = [];
    for (const domain of missing) {
      const current = await files.load(domain, rules);
      if (current.aliases.get(local)?.pipe === pipe) continue;
      await files.ensureDomainDirectory(domain);
      current.aliases.setOwnPipe(local, pipe);
      await files.write(current.aliasesFile, current.aliases.toString());
      changedFiles.push(current.aliasesFile);
      created.push(domain);
    }
    const summary = created.length > 0 ? `report address ${local}@ set up for ${created.join(', ')}` : 'report spool and spooler set up';
    return { result: { spoolDirectory, created }, changedFiles, summary };
  });
}
