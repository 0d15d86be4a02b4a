import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSms {
  to: string;
  text: string;
}

/** The generic SMS webhook of SPEC §3 as a real HTTP server on 127.0.0.1, recording what it accepts. */
export class TestSmsGateway {
  readonly received: ReceivedSms[] = [];
  /** Requests seen, accepted or not. */
  requests = 0;
  /** While set, every request is answered with this status (e.g. 500 while "down"). */
  failWith: number | undefined;
  private server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.requests += 1;
      if (this.failWith !== undefined) {
        response.writeHead(this.failWith).end('{"error":"down"}');
        return;
      }
      const ok = request.method === 'POST' && request.url === '/sms' && request.headers['content-type']?.startsWith('application/json');
      const body = ok ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedSms) : undefined;
      if (!body || typeof body.to !== 'string' || typeof body.text !== 'string') {
        response.writeHead(400).end();
        return;
      }
      this.received.push(body);
      response.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/sms`;
  }

  async stop(): Promise<void> {
    // Stop accepting first, then cut every open connection (a keep-alive socket arriving in between would
    // otherwise hold close() open).
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** The six-digit code of the newest text to `to`. */
  lastCode(to: string): string | undefined {
    const text = this.received.filter((m) => m.to === to).at(-1)?.text;
    return text ? /#(\d{6})$/.exec(text)?.[1] : undefined;
  }
}
