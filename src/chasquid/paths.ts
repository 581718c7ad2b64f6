// Where chasquid keeps things inside its configuration directory (CHASQUID_DIR).
//
//   chasquid.conf                       daemon settings
//   domains/<domain>/users              senders (text protobuf, scrypt hashes)
//   domains/<domain>/aliases            forwarding aliases
//   domains/<domain>/dkim:<sel>.pem     DKIM keys, 1.14+
//   domains/<domain>/dkim_selector      the active DKIM selector, hook layout (up to 1.13)
//   certs/<name>/fullchain.pem, privkey.pem   TLS certificates, one directory per name
//   certs/<domain>/dkim_privkey.pem     the DKIM key, hook layout
//   hooks/post-data                     the hook run on every message
// and two directories of ours, which mailops-host alone writes: `.mailops-backup/`, the previous content of every
// file mailops replaced (mode 0700), and `.mailops-state/`, the host lock's lease and the journal of a change.

import path from 'node:path';

export class ChasquidPaths {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  get configFile(): string {
    return path.posix.join(this.root, 'chasquid.conf');
  }

  get domainsDir(): string {
    return path.posix.join(this.root, 'domains');
  }

  get certsDir(): string {
    return path.posix.join(this.root, 'certs');
  }

  get backupRoot(): string {
    return path.posix.join(this.root, '.mailops-backup');
  }

  /** Callers pass normalised domains (validation/domain.ts): a domain is a single, safe path component. */
  domainDir(domain: string): string {
    return path.posix.join(this.domainsDir, domain);
  }

  usersFile(domain: string): string {
    return path.posix.join(this.domainDir(domain), 'users');
  }

  aliasesFile(domain: string): string {
    return path.posix.join(this.domainDir(domain), 'aliases');
  }

  certificateDir(name: string): string {
    return path.posix.join(this.certsDir, name);
  }
}
