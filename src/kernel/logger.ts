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

/** Token-bearing paths and query values are cut out of logged URLs. */
export function redactPath(url: string): string {
  return url
    .replace(/\/recover\/email\/[^/?#]+/, '/recover/email/[redacted]')
    .replace(/([?&](?:token|checkword|code|state|nonce|device_id)=)[^&#]*/gi, '$1[redacted]');
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
