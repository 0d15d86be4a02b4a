import nodemailer, { type Transporter } from 'nodemailer';
import { PermanentDeliveryError } from './errors.js';
import type { EmailPayload } from './outbox.js';

/** Where letters go: a pooled SMTP connection, or the development outbox (kept in the database). */
export interface MailTransport {
  /** `dev` keeps the letter readable at /dev/outbox; a real transport's letters leave the database once sent. */
  readonly kind: 'smtp' | 'dev';
  /**
   * `messageId` (RFC 5322 Message-ID, with its angle brackets) is the same for every attempt at one outbox
   * message: a letter sent again after a crash between the SMTP server's "250 OK" and our record of it is
   * recognisably the same letter (mail systems and readers collapse duplicates by Message-ID).
   */
  send(letter: EmailPayload, options?: { messageId?: string }): Promise<void>;
  close(): void;
}

export function createSmtpTransport(url: string, from: string): MailTransport {
  const transporter: Transporter = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 5,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  } as nodemailer.TransportOptions);
  return {
    kind: 'smtp',
    async send(letter, options = {}) {
      try {
        await transporter.sendMail({ from, to: letter.to, subject: letter.subject, text: letter.text, html: letter.html, messageId: options.messageId });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        if (typeof code === 'number' && code >= 500 && code < 600) {
          throw new PermanentDeliveryError(`SMTP ${code}`, { cause: error });
        }
        throw error;
      }
    },
    close: () => transporter.close(),
  };
}

export const devMailTransport: MailTransport = {
  kind: 'dev',
  send: async () => undefined,
  close: () => undefined,
};
