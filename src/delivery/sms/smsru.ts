import { PermanentDeliveryError } from '../errors.js';
import type { SmsMessage, SmsTransport } from '../sms-transport.js';
import {
  DEFAULT_SMS_TIMEOUT_MS,
  excerpt,
  isRetryableStatus,
  joinUrl,
  postToGateway,
  redirectError,
  type SmsGatewayOptions,
} from './http.js';

/*
 * SMS.ru HTTP API, "Отправить СМС сообщение HTTP запросом": https://sms.ru/api/send
 *
 *   POST https://sms.ru/sms/send   (form fields api_id, to, msg, json=1, optional from)
 *
 * `to` is the number in international format, digits only (the page's examples: to=79255070602). With json=1
 * the answer (HTTP 200) is
 *
 *   { "status": "OK", "status_code": 100,                      <- the request as a whole (auth, sender, …)
 *     "sms": { "79255070602": { "status": "OK", "status_code": 100, "sms_id": "000000-10000000" },
 *              "74993221627": { "status": "ERROR", "status_code": 207, "status_text": "…" } },
 *     "balance": 4122.56 }
 *
 * and a request refused as a whole is { "status": "ERROR", "status_code": <code>, "status_text": "…" }.
 * 100 = accepted. Response codes (SMS.ru's code table as reproduced, identically, by several SMS.ru client
 * libraries; the page above shows only the 207 example, so check it when SMS.ru adds codes): 200 wrong api_id, 201 not enough money on the account, 202 wrong recipient number
 * or no route to it, 203 no message text, 204 sender name not approved, 205 message too long, 206 daily
 * sending limit reached, 207 no route to this number, 208 bad `time`, 209 number is in the stop list,
 * 210 GET used where POST is required, 211 method not found, 212 text not UTF-8, 213 more than 100 numbers,
 * 220 service temporarily unavailable, try a bit later, 230/231/232 per-number daily / per-minute / same-text
 * limits, 300/301/302 token / api_id / login errors, 500 server error, repeat the request.
 */

/** Codes a later retry of the same request can fix: "service temporarily unavailable" and "server error". */
const RETRYABLE_CODES = new Set([220, 500]);

/**
 * Codes that are final for this message: bad credentials, no balance, bad number or no route, sender not
 * approved, malformed request, stop list, and the per-number / daily limits (a login code lives 60 s, so
 * waiting for a limit to reset only delivers a dead code and spends money).
 */
const PERMANENT_CODES = new Set([
  200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 230, 231, 232, 300, 301, 302,
]);

export interface SmsRuSettings {
  apiId: string;
  /** https://sms.ru by default (LATCHKEY_SMSRU_URL). */
  baseUrl: string;
  /** An approved sender name; SMS.ru's default sender when unset. */
  from: string | undefined;
}

interface SmsRuStatus {
  status?: unknown;
  status_code?: unknown;
  status_text?: unknown;
  sms_id?: unknown;
}

interface SmsRuAnswer extends SmsRuStatus {
  sms?: Record<string, SmsRuStatus | undefined>;
}

export function createSmsRuTransport(settings: SmsRuSettings, options: SmsGatewayOptions = {}): SmsTransport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SMS_TIMEOUT_MS;
  const label = 'SMS.ru';
  const url = joinUrl(settings.baseUrl, '/sms/send');
  return {
    kind: 'smsru',
    async send(message: SmsMessage) {
      const to = message.to.replace(/\D/g, '');
      const form = new URLSearchParams({ api_id: settings.apiId, to, msg: message.text, json: '1' });
      if (settings.from) form.set('from', settings.from);
      const answer = await postToGateway(
        label,
        url,
        { headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() },
        timeoutMs,
      );
      if (answer.status >= 300 && answer.status < 400) throw redirectError(label, answer);
      if (answer.status < 200 || answer.status >= 300) {
        const text = `${label}: HTTP ${answer.status}: ${excerpt(answer.body, message.to)}`;
        if (isRetryableStatus(answer.status)) throw new Error(text);
        throw new PermanentDeliveryError(text);
      }

      let parsed: SmsRuAnswer;
      try {
        parsed = JSON.parse(answer.body) as SmsRuAnswer;
        if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      } catch {
        throw new Error(`${label}: unreadable answer: ${excerpt(answer.body, message.to)}`);
      }

      const overall = code(parsed);
      if (overall !== 100) throw refusal(label, parsed, message.to);
      const entries = parsed.sms ?? {};
      // The answer is keyed by the number as SMS.ru normalised it; with one recipient there is one entry.
      const entry = entries[to] ?? (Object.keys(entries).length === 1 ? Object.values(entries)[0] : undefined);
      if (!entry) throw new Error(`${label}: the answer has no result for the recipient: ${excerpt(answer.body, message.to)}`);
      if (code(entry) !== 100) throw refusal(label, entry, message.to);
    },
  };
}

function code(status: SmsRuStatus): number | undefined {
  const value = typeof status.status_code === 'string' ? Number(status.status_code) : status.status_code;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function refusal(label: string, status: SmsRuStatus, to: string): Error {
  const value = code(status);
  const text = typeof status.status_text === 'string' && status.status_text ? excerpt(status.status_text, to) : 'no status_text';
  const message = `${label}: status_code ${value ?? String(status.status_code)}: ${text}`;
  if (value !== undefined && PERMANENT_CODES.has(value)) return new PermanentDeliveryError(message);
  if (value !== undefined && RETRYABLE_CODES.has(value)) return new Error(message);
  // An undocumented code: let the outbox retry (its attempts are bounded) rather than drop the code silently.
  return new Error(message);
}
