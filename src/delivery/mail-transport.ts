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
  // Without TCP_NODELAY each letter's small writes wait for the server's delayed ACK (~40 ms a letter here:
  // 45 ms instead of 3 ms one after another). nodemailer has no such option, but takes a connected socket from
  // `getSocket` (and starts TLS on it itself for smtps, or upgrades it with STARTTLS).
  options.getSocket = (_options, callback) => connectWithoutDelay(options, callback);
  return options;
}

function connectWithoutDelay(options: SMTPPool.Options, callback: (error: Error | null, socketOptions?: { connection: net.Socket }) => void): void {
  const socket = net.connect({ host: options.host ?? 'localhost', port: options.port ?? (options.secure ? 465 : 587), noDelay: true });
  let settled = false;
  // A refused or silent server: nodemailer connects once more itself and reports the failure (its pool leaves
  // the letters queued behind a getSocket error unanswered).
  const fallBack = () => {
    socket.destroy();
    if (settled) return;
    settled = true;
    callback(null);
  };
  socket.setTimeout(options.connectionTimeout ?? 10_000, fallBack);
  socket.once('error', fallBack);
  socket.once('connect', () => {
    if (settled) return;
    settled = true;
    socket.setTimeout(0);
    socket.removeListener('error', fallBack);
    callback(null, { connection: socket });
  });
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
