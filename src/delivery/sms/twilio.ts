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
 * Twilio Programmable Messaging, "Create a Message resource":
 * https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 *
 *   POST https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json
 *   HTTP Basic auth AccountSid:AuthToken (https://www.twilio.com/docs/iam/api), form fields To, From, Body
 *
 * Success is 201 Created with the Message resource as JSON ({"sid": "SM…", "status": "queued", …}). Errors are
 * JSON {"code", "message", "more_info", "status"} (https://www.twilio.com/docs/api/errors). The codes we name:
 *   20003 Permission denied / authenticate, HTTP 401 (also: account suspended or closed) …/errors/20003
 *   20005 Account not active (ran out of funds, trial not activated)                     …/errors/20005
 *   10001 Account is not active (balance at or below $0, suspended)                       …/errors/10001
 *   21211 Invalid 'To' phone number                                                       …/errors/21211
 *   21408 Permission to send to this region not enabled (Messaging Geo Permissions)      …/errors/21408
 *   21606 'From' number is not a message-capable Twilio number for this destination      …/errors/21606
 *   21608 'To' number not verified (trial account)                                        …/errors/21608
 *   21610 Recipient unsubscribed (replied STOP)                                           …/errors/21610
 *   21614 'To' number is not a valid mobile number (landline or invalid)                 …/errors/21614
 *   21635 'To' number cannot be a landline                                                …/errors/21635
 *   20429 Too many requests, HTTP 429: "never processed and always safe to retry"         …/errors/20429
 * 30002 "Account suspended" exists too, but is reported later (status callback), not by this request.
 * Any other 4xx is a request Twilio refused as it stands; 5xx and 429 are retried by the outbox.
 */
const KNOWN_CODES: Record<number, string> = {
  10001: 'account not active',
  20003: 'authentication failed or account suspended',
  20005: 'account not active',
  21211: "invalid 'To' number",
  21408: 'region not enabled for this account',
  21606: "'From' number cannot send to this destination",
  21608: "'To' number not verified (trial account)",
  21610: 'recipient unsubscribed',
  21614: "'To' number is not a mobile number",
  21635: "'To' number is a landline",
  20429: 'too many requests',
};

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** A Twilio number (E.164), alphanumeric sender ID or messaging-capable sender of this account. */
  from: string;
  /** https://api.twilio.com by default (LATCHKEY_TWILIO_URL). */
  baseUrl: string;
}

interface TwilioError {
  code?: unknown;
  message?: unknown;
}

export function createTwilioTransport(settings: TwilioSettings, options: SmsGatewayOptions = {}): SmsTransport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SMS_TIMEOUT_MS;
  const label = 'Twilio';
  const url = joinUrl(settings.baseUrl, `/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`);
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`, 'utf8').toString('base64')}`;
  return {
    kind: 'twilio',
    async send(message: SmsMessage) {
      const form = new URLSearchParams({ To: message.to, From: settings.from, Body: message.text });
      const answer = await postToGateway(
        label,
        url,
        {
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
        },
        timeoutMs,
      );
      if (answer.status >= 200 && answer.status < 300) return;
      if (answer.status >= 300 && answer.status < 400) throw redirectError(label, answer);

      let error: TwilioError = {};
      try {
        const parsed: unknown = JSON.parse(answer.body);
        if (typeof parsed === 'object' && parsed !== null) error = parsed as TwilioError;
      } catch {
        // not JSON (a proxy's error page, say): reported by status and excerpt below
      }
      const code = typeof error.code === 'number' ? error.code : Number.NaN;
      const known = KNOWN_CODES[code];
      const detail =
        typeof error.message === 'string' && error.message ? excerpt(error.message, message.to) : excerpt(answer.body, message.to);
      const text = `${label}: HTTP ${answer.status}${Number.isNaN(code) ? '' : `, code ${code}`}${known ? ` (${known})` : ''}${detail ? `: ${detail}` : ''}`;
      if (isRetryableStatus(answer.status) || code === 20429 || answer.status < 200) throw new Error(text);
      throw new PermanentDeliveryError(text);
    },
  };
}
