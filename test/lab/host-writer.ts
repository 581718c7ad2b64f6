// A mailops process of its own for test/lab/local-transport.test.ts: it writes one file on the mail host of a
// settings file, through the transport MAIL_HOST names, in two steps the test drives — so that the test can look at
// the process list while the upload is on its way, as whichever user runs this.
//
//   node -- test/lab/host-writer.ts ENV_FILE FILE
//
// It takes the host lock and reads FILE (the base of its change), prints "based", reads the new content from its
// standard input up to its end, writes it (a new file gets root and mode 0600), prints "written" and exits 0.

import { text } from 'node:stream/consumers';
import { loadConfig } from '../../src/config.ts';
import { mailHostFromConfig } from '../../src/host/mail-host.ts';
import { createLogger, Redactor } from '../../src/log.ts';

const [envFile, file] = process.argv.slice(2);
if (envFile === undefined || file === undefined) throw new Error('usage: host-writer.ts ENV_FILE FILE');
const { config } = loadConfig({ envFile, cwd: '/', env: process.env });
const host = mailHostFromConfig(config, createLogger({ level: 'silent', redactor: new Redactor() }));
try {
  await host.lock.run(async () => {
    await host.files.read(file);
    process.stdout.write('based\n');
    const content = await text(process.stdin);
    await host.files.writeAtomic(file, content, { createOwner: 'root', createMode: 0o600 });
  });
  process.stdout.write('written\n');
} finally {
  await host.close();
}
