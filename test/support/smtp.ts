import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  raw: ParsedMail;
}

/** A real SMTP server on 127.0.0.1 (ephemeral port) that parses every letter it accepts. */
export class TestSmtpServer {
  readonly mails: ReceivedMail[] = [];
  private waiters: Array<() => void> = [];
  private server: SMTPServer;
  /** While true, every connection is refused at the greeting (for retry tests). */
  refuse = false;
  /** SMTP connections opened so far (a pooled sender reuses its connections). */
  connections = 0;

  constructor() {
    this.server = new SMTPServer({
      // A stopped server drops its connections at once, as one that went away would (senders keep pooled ones open).
      closeTimeout: 50,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onConnect: (_session, callback) => {
        this.connections += 1;
        if (this.refuse) {
          // 421: a temporary refusal, which a sender must retry later.
          const error = Object.assign(new Error('try again later'), { responseCode: 421 });
          return callback(error);
        }
        return callback();
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            this.mails.push({
              to: session.envelope.rcptTo.map((r) => r.address).join(','),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              raw: parsed,
            });
            for (const wake of this.waiters.splice(0)) wake();
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    // A sender that dies mid-connection resets it: the sender's end, not a failure of this server.
    this.server.on('error', () => undefined);
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Waits until `count` letters matched `filter`, or fails after `timeoutMs`. */
  async waitFor(filter: (mail: ReceivedMail) => boolean, count = 1, timeoutMs = 10_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.mails.filter(filter);
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} letter(s); have ${found.length} of ${this.mails.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** The recovery link in a letter's text part. */
export function linkIn(mail: ReceivedMail): string {
  const match = /https?:\/\/\S+\/recover\/email\/[A-Za-z0-9_-]+/.exec(mail.text);
  if (!match) throw new Error(`no recovery link in letter: ${mail.text}`);
  return match[0];
}
