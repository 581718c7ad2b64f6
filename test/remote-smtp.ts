// A remote mail server for lab tests: a minimal SMTP server on loopback that chasquid delivers to (see the lab's
// `outgoingSmtp`), answering each RCPT TO with the reply the test chose for that recipient, as a large mailbox
// provider answers a sender it does not like. It speaks just enough SMTP for chasquid's client (EHLO without STARTTLS,
// MAIL, RCPT, DATA, QUIT) and records what it was told.

import net from 'node:net';

export interface RemoteSmtpServer {
  port: number;
  /** Every command line received, in order (DATA's content is not included). */
  commands: string[];
  close(): Promise<void>;
}

/**
 * Reply lines for one recipient, without the CRLF: several lines make a multi-line reply (`550-5.7.26 …` lines, then
 * `550 5.7.26 …`). A recipient with no entry is accepted (`250 2.1.5 OK`).
 */
export type RecipientReplies = Record<string, string[]>;

export async function startRemoteSmtp(port: number, replies: RecipientReplies): Promise<RemoteSmtpServer> {
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const send = (...lines: string[]) => socket.write(lines.map((line) => `${line}\r\n`).join(''));
    let buffered = '';
    let inData = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            send('250 2.0.0 OK queued');
          }
          continue;
        }
        commands.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') send('250-remote.test at your service', '250-8BITMIME', '250 SMTPUTF8');
        else if (verb === 'HELO') send('250 remote.test');
        else if (verb === 'MAIL') send('250 2.1.0 OK');
        else if (verb === 'RCPT') {
          const recipient = /<([^>]*)>/.exec(line)?.[1]?.toLowerCase() ?? '';
          send(...(replies[recipient] ?? ['250 2.1.5 OK']));
        } else if (verb === 'DATA') {
          inData = true;
          send('354 Go ahead');
        } else if (verb === 'RSET' || verb === 'NOOP') send('250 2.0.0 OK');
        else if (verb === 'QUIT') {
          send('221 2.0.0 closing connection');
          socket.end();
        } else send('502 5.5.1 Unrecognized command');
      }
    });
    send('220 remote.test ESMTP ready');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
