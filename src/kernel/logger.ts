import type { LoggerOptions } from 'pino';

/** Paths that may hold a secret; pino replaces them before a line is written (SPEC §7 rule 14). */
const REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.code',
  '*.checkword',
  '*.flow',
];

/**
 * A run of 32 or more URL-safe characters: the shape of every secret Latchkey hands out (256-bit tokens,
 * checkwords and flow handles are 43); ids (32 hex) are kept, so a run must also hold a character outside hex.
 */
const SECRET_RUN = /[A-Za-z0-9_-]{32,}/g;

/** Cuts anything shaped like a secret out of free text (framework messages quote the raw URL). */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_RUN, (run) => (/^[0-9a-f]+$/.test(run) ? run : '[redacted]'));
}

/** Token-bearing paths and query values are cut out of logged URLs, however malformed the URL is. */
export function redactPath(url: string): string {
  return redactSecrets(
    url
      .replace(/\/recover\/email\/[^/?#]+/, '/recover/email/[redacted]')
      .replace(/([?&](?:token|checkword|code|state|nonce|device_id|login)=)[^&#]*/gi, '$1[redacted]'),
  );
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: redactPath(req.url ?? ''), ip: req.ip }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}
