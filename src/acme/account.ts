// The ACME account key: made once, kept in the state directory (beside STATE_DB; the file 0600, a directory made for
// it 0700, whatever the umask) and reused by every renewal, so that the CA sees one account — its rate limits, its
// contact address, its history — not a new account per run. The CA finds the account from the key alone
// (RFC 8555 §7.3.1), so nothing else needs keeping.

import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as acme from 'acme-client';
import { usageError } from '../errors.ts';
import { makePrivateDirectory } from '../store/private-files.ts';

export function accountKeyFile(stateDb: string): string {
  return path.join(path.dirname(path.resolve(stateDb)), 'acme-account-key.pem');
}

/** The account key in `file`, made (ECDSA P-256) and stored when there is none yet. */
export async function loadOrCreateAccountKey(file: string): Promise<Buffer> {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw usageError(
        'acme-account-key-unreadable',
        `The ACME account key ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
        'Check the permissions of the state directory (beside STATE_DB).'
      );
    }
  }
  const key = await acme.crypto.createPrivateEcdsaKey('P-256');
  try {
    makePrivateDirectory(path.dirname(file));
    // 'wx': if another mailops process made one meanwhile, keep theirs.
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file);
    throw usageError(
      'acme-account-key-unwritable',
      `The ACME account key cannot be stored in ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      'Make the state directory (beside STATE_DB) writable for mailops.'
    );
  }
  chmodSync(file, 0o600);
  return key;
}
