import { PermanentDeliveryError } from '../errors.js';
import type { SmsMessage, SmsTransport } from '../sms-transport.js';

/** Options every SMS gateway factory takes. */
export interface SmsGatewayOptions {
  /** How long one request may take, answer body included; 10 s by default. */
  timeoutMs?: number;
}

export const DEFAULT_SMS_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------
// HTTP plumbing shared by the SMS gateways (webhook, SMS.ru, Twilio).

/** What a gateway answered: the HTTP status and the body as text. */
export interface GatewayAnswer {
  status: number;
  body: string;
  location: string | null;
}

/**
 * POSTs to a gateway with a hard time limit covering the whole exchange (connect, headers, body).
 * Network failures and time-outs become ordinary (retryable) errors; redirects are not followed, because
 * fetch would turn a 301/302 POST into a body-less GET and the text could be "accepted" by a landing page.
 */
export async function postToGateway(
  label: string,
  url: string,
  init: { headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<GatewayAnswer> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: init.headers,
      body: init.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    return { status: response.status, body, location: response.headers.get('location') };
  } catch (error) {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      throw new Error(`${label}: no answer within ${timeoutMs} ms`, { cause: error });
    }
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw new Error(`${label}: request failed (${cause})`, { cause: error });
  }
}

/** 408 Request Timeout and 429 Too Many Requests are the 4xx answers a later retry can fix. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * A short, single-line piece of a gateway's answer for error messages (which end up in logs and the outbox
 * table): the recipient's number is masked so the record does not carry it.
 */
export function excerpt(text: string, to: string, max = 200): string {
  let clean = text.replace(/\s+/g, ' ').trim();
  const digits = to.replace(/\D/g, '');
  if (digits.length >= 5) clean = clean.split(`+${digits}`).join('+***').split(digits).join('***');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Joins a configured base URL (which may carry a path prefix or a trailing slash) and an API path. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** A 3xx answer means the configured address is stale; retrying the same address cannot help. */
export function redirectError(label: string, answer: GatewayAnswer): PermanentDeliveryError {
  return new PermanentDeliveryError(
    `${label}: HTTP ${answer.status} redirect${answer.location ? ` to ${answer.location}` : ''} not followed; configure the final URL`,
  );
}

// ---------------------------------------------------------------------------
// Generic webhook gateway.

/**
 * Generic webhook (LATCHKEY_SMS_WEBHOOK_URL): `POST <url>` with JSON `{"to": "+7…", "text": "…"}`.
 * Any 2xx means accepted. 4xx other than 408/429 is a refusal a retry cannot fix (PermanentDeliveryError);
 * 408, 429, 5xx, network errors and time-outs are transient and left to the outbox's retries.
 */
export function createWebhookSmsTransport(url: string, options: SmsGatewayOptions = {}): SmsTransport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SMS_TIMEOUT_MS;
  const label = 'SMS webhook';
  return {
    kind: 'webhook',
    async send(message: SmsMessage) {
      const answer = await postToGateway(
        label,
        url,
        {
          headers: { 'content-type': 'application/json', accept: 'application/json, text/plain, */*' },
          body: JSON.stringify({ to: message.to, text: message.text }),
        },
        timeoutMs,
      );
      if (answer.status >= 200 && answer.status < 300) return;
      const detail = excerpt(answer.body, message.to);
      const text = `${label}: HTTP ${answer.status}${detail ? `: ${detail}` : ''}`;
      if (answer.status >= 300 && answer.status < 400) throw redirectError(label, answer);
      if (isRetryableStatus(answer.status) || answer.status < 200) throw new Error(text);
      throw new PermanentDeliveryError(text);
    },
  };
}
