// The end-to-end probe of `check`: a sender and an alias that mailops owns in each domain it tests.
//
//   mailops-probe@<domain>       a sender (SMTP AUTH user) with a generated password, created on first use; the
//                                password lives only in the state database (probe_senders) and in chasquid's hash.
//   mailops-probe-sink@<domain>  a pipe alias, `| /bin/cp /dev/stdin <data_dir>/mailops-probe/<domain>.eml`, marked
//                                by a comment line in the aliases file. chasquid delivers to it after signing (the
//                                built-in signer and the 1.11 post-data hook both sign before queueing), so the file
//                                holds the message exactly as the world would receive it. chasquid runs pipe
//                                commands without a shell, split on spaces — hence cp, and paths without spaces.
// Both show up in `users` and `aliases` under these names. Both are created through the same code paths as any
// change (applyChange: host lock, git commit, audit entry).

import path from 'node:path';
import { daemonAccount } from '../chasquid/access.ts';
import { AliasesFile } from '../chasquid/aliases-file.ts';
import { parseChasquidConf } from '../chasquid/config-file.ts';
import { DomainFiles } from '../chasquid/domain-files.ts';
import { readUsersFile } from '../chasquid/users-file.ts';
import { failedError } from '../errors.ts';
import { addSender, changeSenderPassword } from '../ops/senders.ts';
import { applyChange } from '../ops/change.ts';
import type { OperationContext } from '../ops/context.ts';
import { probePassword, saveProbePassword } from '../store/probe-senders.ts';

export const probeLocalPart = 'mailops-probe';
export const sinkLocalPart = 'mailops-probe-sink';
const marker = '# mailops: deliverability probe of "mailops check" — captures test messages; mailops keeps this line';

export interface Probe {
  sender: string;
  password: string;
  sink: string;
  /** Where the sink alias writes each message it receives. */
  captureFile: string;
  /** What this call had to create (chasquid may need up to 30 s to pick it up). */
  created: Array<'sender' | 'alias'>;
}

/** The sink's pipe command for a capture file. */
export function sinkCommand(captureFile: string): string {
  return `/bin/cp /dev/stdin ${captureFile}`;
}

/** The probe's capture directory: chasquid's data directory, where the daemon may write. */
async function captureDirectory(context: OperationContext): Promise<string> {
  const files = new DomainFiles(context.host, context.chasquidDir);
  const conf = parseChasquidConf((await files.read(files.paths.configFile))?.toString('utf8') ?? '');
  const directory = path.posix.join(conf.dataDir, 'mailops-probe');
  if (/\s/.test(directory)) {
    throw failedError('probe-path-unusable', `chasquid's data_dir (${conf.dataDir}) contains white space, which a pipe alias cannot pass.`,
      { hint: 'Move data_dir to a path without spaces to use the end-to-end check.' });
  }
  const account = await daemonAccount(context.host, context.chasquidDir);
  await context.host.files.makeDirectory(directory, { mode: 0o750, owner: `${account.user}:${account.group}` });
  return directory;
}

async function ensureSender(context: OperationContext, domain: string, created: Probe['created']): Promise<string> {
  const address = `${probeLocalPart}@${domain}`;
  const stored = probePassword(context.database, address);
  if (stored !== undefined) {
    context.redactor.add(stored);
    return stored;
  }
  const files = new DomainFiles(context.host, context.chasquidDir);
  const usersFile = files.paths.usersFile(domain);
  const exists = readUsersFile(await files.read(usersFile), usersFile).has(probeLocalPart);
  // A sender of that name without a password of ours (a lost state database): give it a new one.
  const result = exists ? await changeSenderPassword(context, { address }) : await addSender(context, { address });
  if (result.password === undefined) throw new Error('the probe sender was created without a generated password');
  saveProbePassword(context.database, address, result.password, context.now());
  created.push('sender');
  return result.password;
}

/** Gives the probe sender a new password (when the stored one no longer works). */
export async function resetProbePassword(context: OperationContext, domain: string): Promise<string> {
  const address = `${probeLocalPart}@${domain}`;
  const result = await changeSenderPassword(context, { address });
  if (result.password === undefined) throw new Error('the probe password was reset without a generated password');
  saveProbePassword(context.database, address, result.password, context.now());
  return result.password;
}

async function ensureSink(context: OperationContext, domain: string, captureFile: string, created: Probe['created']): Promise<void> {
  const files = new DomainFiles(context.host, context.chasquidDir);
  const rules = await files.aliasRules();
  const aliasesFile = files.paths.aliasesFile(domain);
  const command = sinkCommand(captureFile);
  const current = AliasesFile.parse((await files.read(aliasesFile))?.toString('utf8'), domain, rules).get(sinkLocalPart);
  if (current?.pipe === command) return;
  if (current !== undefined) {
    throw failedError('probe-alias-taken', `${sinkLocalPart}@${domain} already exists and is not mailops' probe alias; the end-to-end check cannot use it.`,
      { hint: `Remove or rename that alias, then run the check again.` });
  }
  await applyChange(context, { operation: 'probe-alias', target: `${sinkLocalPart}@${domain}` }, async () => {
    const text = (await files.read(aliasesFile))?.toString('utf8') ?? '';
    const updated = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${marker}\n${sinkLocalPart}: | ${command}\n`;
    const reread = AliasesFile.parse(updated, domain, rules);
    if (reread.get(sinkLocalPart)?.pipe !== command || reread.entries().length !== AliasesFile.parse(text, domain, rules).entries().length + 1) {
      throw failedError('probe-alias-check-failed', `The aliases file of ${domain} with the probe alias did not read back as expected; nothing was written.`,
        { hint: 'This is a bug in mailops; the file on the host is unchanged.' });
    }
    await files.ensureDomainDirectory(domain);
    await files.write(aliasesFile, updated);
    return { result: undefined, changedFiles: [aliasesFile], summary: 'created the probe alias of the end-to-end check' };
  });
  created.push('alias');
}

/** The probe of `domain`, created where missing. */
export async function ensureProbe(context: OperationContext, domain: string): Promise<Probe> {
  const created: Probe['created'] = [];
  const directory = await captureDirectory(context);
  const captureFile = path.posix.join(directory, `${domain}.eml`);
  const password = await ensureSender(context, domain, created);
  await ensureSink(context, domain, captureFile, created);
  return { sender: `${probeLocalPart}@${domain}`, password, sink: `${sinkLocalPart}@${domain}`, captureFile, created };
}
