import { PermanentDeliveryError } from '../errors.js';
import type { SmsMessage, SmsTransport } from '../sms-transport.js';
import { DEFAULT_SMS_TIMEOUT_MS, excerpt, isRetryableStatus, postToGateway, redirectError, type SmsGatewayOptions } from './http.js';

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
