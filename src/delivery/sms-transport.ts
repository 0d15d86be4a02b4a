/** One text message to one number (E.164). */
export interface SmsMessage {
  to: string;
  text: string;
}

/**
 * Where texts go. `send` resolves when the gateway accepted the message; it throws
 * `PermanentDeliveryError` (src/delivery/errors.ts) for refusals a retry cannot fix (invalid number,
 * no balance, bad credentials) and any other error for transient trouble (network, 5xx), which the
 * outbox worker retries with backoff.
 */
export interface SmsTransport {
  readonly kind: 'webhook' | 'smsru' | 'twilio' | 'dev';
  send(message: SmsMessage): Promise<void>;
}

/** Development outbox: the text stays in the database and is shown at /dev/outbox. */
export const devSmsTransport: SmsTransport = { kind: 'dev', send: async () => undefined };
