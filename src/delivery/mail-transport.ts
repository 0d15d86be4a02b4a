import net from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared/index.js';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
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

/**
 * The SMTP options: the URL's (host, port, smtps, user and password, query settings), pooled, with time-outs.
 * Parsed here because nodemailer takes a `url` option *instead of* every other one: given `{ url, pool }` it
 * opened one connection per letter and applied none of the time-outs.
 */
export function smtpOptions(url: string): SMTPPool.Options {
  const options: SMTPPool.Options = {
    ...parseConnectionUrl(url),
    pool: true,
    maxConnections: 5,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
  // Without TCP_NODELAY each letter's last small writes wait for the server's delayed ACK (~40 ms): a pooled
  // connection then carried ~20 letters a second instead of ~100. TLS from the first byte (smtps) keeps
  // nodemailer's own socket; STARTTLS upgrades this one.
  if (!options.secure) options.getSocket = (_options, callback) => callback(null, { socket: new net.Socket().setNoDelay(true) });
  return options;
}

export function createSmtpTransport(url: string, from: string): MailTransport {
  const transporter: Transporter = nodemailer.createTransport(smtpOptions(url));
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
