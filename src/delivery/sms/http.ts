/** The HTTP plumbing every SMS gateway shares: one POST with a time-out, status rules, safe excerpts. */
import { PermanentDeliveryError } from '../errors.js';

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

