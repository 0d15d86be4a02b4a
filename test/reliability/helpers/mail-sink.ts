// A real SMTP server (smtp-server + mailparser) for fault tests: unlike test/support/smtp.ts it can be
// stopped so that its port refuses connections, and started again on the same port; it keeps every letter's
// Message-ID, so a letter delivered twice is told apart from two letters.
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitUntil } from '../../support/wait.js';

export interface SunkMail {
  to: string;
  messageId: string;
  subject: string;
  text: string;
}

export class MailSink {
  readonly mails: SunkMail[] = [];
  /** While true, every connection is refused at the greeting with 421 (a temporary refusal). */
  refuse = false;
  /** Milliseconds to hold each letter before accepting it (a slow server keeps letters in flight). */
  acceptDelayMs = 0;
  private server: SMTPServer | undefined;
  private port = 0;

  private create(): SMTPServer {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // stop() must not wait 30 s for the sender's pooled connections: they get 421 and are closed.
      closeTimeout: 100,
      onConnect: (_session, callback) => {
        if (this.refuse) return callback(Object.assign(new Error('try again later'), { responseCode: 421 }));
        return callback();
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then(async (parsed) => {
            if (this.acceptDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.acceptDelayMs));
            this.mails.push({
              to: session.envelope.rcptTo.map((r) => r.address).join(','),
              messageId: parsed.messageId ?? '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    // A sender killed mid-connection (crash tests SIGKILL the server) resets it: the sender's end, not ours.
    server.on('error', () => undefined);
    return server;
  }

  /** Listens on 127.0.0.1: on an ephemeral port the first time, on the same port after a stop. */
  async start(): Promise<string> {
    if (this.server) throw new Error('mail sink already running');
    const server = this.create();
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Closes the port (new connections are refused by the kernel) and drops open connections. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Letters per recipient. */
  countsByRecipient(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const mail of this.mails) counts.set(mail.to, (counts.get(mail.to) ?? 0) + 1);
    return counts;
  }

  async waitForCount(count: number, timeoutMs: number): Promise<void> {
    try {
      await waitUntil(() => this.mails.length >= count, timeoutMs, 50);
    } catch {
      throw new Error(`timed out waiting for ${count} letters; have ${this.mails.length}`);
    }
  }
}

/** The recovery link's token in a letter's text part. */
export function tokenIn(mail: SunkMail): string {
  const match = /\/recover\/email\/([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error(`no recovery link in letter to ${mail.to}`);
  return match[1];
}
