import type { SmsSettings } from '../../config.js';
import { devSmsTransport, type SmsTransport } from '../sms-transport.js';
import { createSmsRuTransport } from './smsru.js';
import { createTwilioTransport } from './twilio.js';
import type { SmsGatewayOptions } from './http.js';
import { createWebhookSmsTransport } from './webhook.js';

export type { SmsGatewayOptions } from './http.js';
export { createWebhookSmsTransport } from './webhook.js';
export { createSmsRuTransport, type SmsRuSettings } from './smsru.js';
export { createTwilioTransport, type TwilioSettings } from './twilio.js';

/**
 * The SMS transport for the configured provider (LATCHKEY_SMS_PROVIDER): none → undefined (texts are not
 * sent), dev → the development outbox, otherwise the HTTP gateway.
 */
export function createSmsTransport(settings: SmsSettings, options: SmsGatewayOptions = {}): SmsTransport | undefined {
  switch (settings.provider) {
    case 'none':
      return undefined;
    case 'dev':
      return devSmsTransport;
    case 'webhook':
      return createWebhookSmsTransport(settings.url, options);
    case 'smsru':
      return createSmsRuTransport({ apiId: settings.apiId, baseUrl: settings.baseUrl, from: settings.from }, options);
    case 'twilio':
      return createTwilioTransport(
        { accountSid: settings.accountSid, authToken: settings.authToken, from: settings.from, baseUrl: settings.baseUrl },
        options,
      );
    default: {
      const unknown: never = settings;
      throw new Error(`unknown SMS provider ${(unknown as { provider: string }).provider}`);
    }
  }
}
