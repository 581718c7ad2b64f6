// What the lab's chasquid serves on its TLS ports, read with openssl s_client (not with mailops's own code).

import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import type { Lab } from './lab.ts';

/** The chain a listener serves, as openssl s_client sees it (STARTTLS for SMTP and submission). */
export async function servedChain(lab: Lab, port: number, starttls: boolean): Promise<X509Certificate[]> {
  const args = [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    lab.hostname,
    '-showcerts',
    ...(starttls ? ['-starttls', 'smtp'] : []),
  ];
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    const child = execFile('openssl', args, { timeout: 10_000 }, (error, out) =>
      out ? resolve({ stdout: out }) : reject(error ?? new Error('no output'))
    );
    child.stdin?.end();
  });
  return (stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem));
}

/** The chains served on 25 (STARTTLS), 587 (STARTTLS) and 465, in that order. */
export async function servedEverywhere(lab: Lab): Promise<X509Certificate[][]> {
  return Promise.all([
    servedChain(lab, lab.ports.smtp, true),
    servedChain(lab, lab.ports.submission, true),
    servedChain(lab, lab.ports.submissionTls, false),
  ]);
}
