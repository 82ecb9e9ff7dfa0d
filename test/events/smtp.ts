import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Mail {
  from: string;
  to: string[];
  data: string;
}

/** A minimal SMTP server (no TLS, no auth) that records every accepted message. */
export class SmtpSink {
  readonly mails: Mail[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((sock) => this.session(sock));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private session(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    let inData = false;
    let cur: Mail = { from: '', to: [], data: '' };
    const reply = (s: string) => sock.write(`${s}\r\n`);
    reply('220 sink ESMTP');
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          cur.data = buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          this.mails.push(cur);
          cur = { from: '', to: [], data: '' };
          reply('250 OK queued');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO' || cmd === 'HELO') reply('250-sink\r\n250 8BITMIME');
        else if (cmd === 'MAIL') { cur.from = line; reply('250 OK'); }
        else if (cmd === 'RCPT') { cur.to.push(line); reply('250 OK'); }
        else if (cmd === 'DATA') { inData = true; reply('354 go ahead'); }
        else if (cmd === 'QUIT') { reply('221 bye'); sock.end(); return; }
        else reply('250 OK');
      }
    });
  }
}
