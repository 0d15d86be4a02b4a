import { isIP } from 'node:net';

/**
 * Settings (SPEC §3), read from the environment (and `.env` when present), validated once at start.
 * Every bad value is reported on its own line naming the variable; nothing is silently ignored.
 */
import type { Limit } from './kernel/rate-limiter.js';
import { BRAND_COLOR, DEFAULT_BRAND, type Brand } from './ui/brand.js';

export type Edition = 'cloud' | 'box';

/** Which SMS gateway delivers texts, with its credentials (SPEC §3). */
export type SmsSettings =
  | { provider: 'none' }
  | { provider: 'dev' }
  | { provider: 'webhook'; url: string }
  | { provider: 'smsru'; apiId: string; baseUrl: string; from: string | undefined }
  | { provider: 'twilio'; accountSid: string; authToken: string; from: string; baseUrl: string };

/** One social sign-in provider (SPEC §3 `LATCHKEY_SOCIAL_<ID>_*`). */
export interface SocialProviderSettings {
  /** Lower-case `<ID>`: the path segment of `/auth/<id>` and its callback. */
  id: string;
  /** `vk` (VK ID) and `yandex` (Yandex ID) speak OAuth 2.0 with their own profile endpoints; the rest OpenID Connect. */
  kind: 'vk' | 'yandex' | 'oidc';
  clientId: string;
  /** Optional for public clients (PKCE only). */
  clientSecret: string | undefined;
  /** OIDC issuer URL, or the base of VK ID's / Yandex ID's endpoints (tests point it at local servers). */
  issuer: string;
  title: string;
}

/** The built-in providers: their default issuer (or endpoint base) and button title. */
const KNOWN_SOCIAL: Record<string, { kind: SocialProviderSettings['kind']; issuer: string; title: string }> = {
  VK: { kind: 'vk', issuer: 'https://id.vk.com', title: 'VK ID' },
  YANDEX: { kind: 'yandex', issuer: 'https://oauth.yandex.ru', title: 'Yandex ID' },
  GOOGLE: { kind: 'oidc', issuer: 'https://accounts.google.com', title: 'Google' },
};

export interface Config {
  /** LATCHKEY_EDITION: `cloud` (default; a passport in many portals) or `box` (one on-premises portal). */
  edition: Edition;
  /** LATCHKEY_BOX_PORTAL_SLUG / LATCHKEY_BOX_PORTAL_TITLE: the box edition's one portal, created at first start. */
  boxPortal: { slug: string; title: string };
  /** LATCHKEY_CHECKWORD_TTL_MINUTES: lifetime of a box checkword; 60 by default, at most 1440. */
  checkwordTtlMinutes: number;
  /**
   * LATCHKEY_TRUSTED_PROXIES: addresses or CIDR ranges whose X-Forwarded-For / X-Forwarded-Proto are believed
   * (SPEC §7 rule 21); from anyone else those headers are ignored. Empty by default.
   */
  trustedProxies: string[];
  /** LATCHKEY_MANAGEMENT_HOST / LATCHKEY_MANAGEMENT_PORT: the listener for /metrics, /healthz, /readyz (0 = any free port). */
  management: { host: string; port: number };
  /** LATCHKEY_HOST: interface the HTTP server listens on; 127.0.0.1 by default. */
  host: string;
  /** LATCHKEY_PORT: TCP port; 3000 by default. */
  port: number;
  /** LATCHKEY_PUBLIC_URL: the only base for links in messages; the Host header is never used. */
  publicUrl: URL;
  /** LATCHKEY_DATABASE_URL: `sqlite:<path>` (default `sqlite:<LATCHKEY_DATA_DIR>/latchkey.db`) or `postgres://…`. */
  databaseUrl: string;
  /** LATCHKEY_SMTP_URL: `smtp://user:pass@host:587` or `smtps://…`; unset = development outbox. */
  smtpUrl: string | undefined;
  /** LATCHKEY_MAIL_FROM: sender of every letter. */
  mailFrom: string;
  /**
   * LATCHKEY_SMS_PROVIDER: `webhook` (LATCHKEY_SMS_WEBHOOK_URL: POST JSON {to, text}, 2xx = accepted),
   * `smsru` (LATCHKEY_SMSRU_API_ID, optional LATCHKEY_SMSRU_FROM), `twilio` (LATCHKEY_TWILIO_ACCOUNT_SID,
   * LATCHKEY_TWILIO_AUTH_TOKEN, LATCHKEY_TWILIO_FROM). Default: `webhook` when a webhook URL is set, else the
   * development outbox in development, else none. LATCHKEY_SMSRU_URL / LATCHKEY_TWILIO_URL move the API base.
   */
  sms: SmsSettings;
  /** LATCHKEY_SMS_COUNTRIES: comma-separated ISO regions texts may go to (SMS pumping guard); unset = any. */
  smsCountries: string[] | undefined;
  /** LATCHKEY_SMS_DAILY_BUDGET: texts per UTC day; when reached, sending stops and an error is logged. */
  smsDailyBudget: number;
  /**
   * LATCHKEY_SMS_CAPS: rule 19's caps on texts, e.g. `number=5/h,sender=30/h,ip=10/h,global=500/h` (the
   * default): per number, per admin sending, per client IP asking for itself, and overall; windows `/m`,
   * `/h` or `/d`. Named caps replace their default, the others keep it.
   */
  smsCaps: SmsCaps;
  /** LATCHKEY_SMS_CODE_TTL_SECONDS: lifetime of an SMS code; 60 by default (seed C4). */
  smsCodeTtlSeconds: number;
  /** LATCHKEY_PHONE_FLOW_TTL_MINUTES: lifetime of a phone recovery flow, resends included; 15 by default. */
  phoneFlowTtlMinutes: number;
  /**
   * LATCHKEY_SOCIAL_<ID>_CLIENT_ID, …_CLIENT_SECRET, …_ISSUER, …_TITLE: social sign-in providers. `<ID>` is VK,
   * YANDEX, GOOGLE, or any name with an …_ISSUER (generic OpenID Connect). HTTP issuers are accepted only on
   * loopback hosts outside production.
   */
  social: SocialProviderSettings[];
  /** LATCHKEY_SOCIAL_TIMEOUT_MS: the longest wait for a provider's answer; 10000 by default. */
  socialTimeoutMs: number;
  /** LATCHKEY_REDIS_URL: shared rate limits when several nodes run. */
  redisUrl: string | undefined;
  /** LATCHKEY_SMS_DEFAULT_REGION: region for phone numbers written without a country code. */
  smsDefaultRegion: string;
  /** LATCHKEY_SUPPORT_CONTACT: shown when a code does not arrive; a portal may set its own. */
  supportContact: string | undefined;
  /** LATCHKEY_TOTP_ISSUER (the public host name): the issuer authenticator apps show beside a Latchkey code. */
  totpIssuer: string;
  /** LATCHKEY_RATE_LIMITS: `on` (default) or `off` for load tests; `off` is refused in production. */
  rateLimits: boolean;
  /** LATCHKEY_SECRET: key for cookies, CSRF tokens and sealed outbox payloads; generated once into the data folder when unset. */
  secret: string | undefined;
  /** LATCHKEY_DEV: enables /dev/outbox; 1 by default only when neither SMTP nor an SMS gateway is configured, outside production. */
  dev: boolean;
  /** LATCHKEY_DATA_DIR: folder for the embedded database and the generated secret; `./data` by default. */
  dataDir: string;
  /** LATCHKEY_EMAIL_LINK_TTL_MINUTES: lifetime of an e-mailed recovery link; 60 by default, at most 1440. */
  emailLinkTtlMinutes: number;
  /** LATCHKEY_SESSION_TTL_HOURS: absolute lifetime of a session; 720 (30 days) by default. */
  sessionTtlHours: number;
  /** LATCHKEY_SESSION_IDLE_HOURS: a session unused this long ends, besides its absolute lifetime; 72 by default. */
  sessionIdleHours: number;
  /**
   * LATCHKEY_BRAND_NAME (`Latchkey`), LATCHKEY_BRAND_LOGO_URL or LATCHKEY_BRAND_LOGO_SVG (none),
   * LATCHKEY_BRAND_COLOR (`#2f6fde`): the product's name, logo and primary colour on every page and letter.
   */
  brand: Brand;
  /** LATCHKEY_LOG_LEVEL: pino level; `info` by default. */
  logLevel: string;
  /** LATCHKEY_LOG_FORMAT: `json` (one object a line), `pretty` (for a person), `auto` (pretty at a terminal). */
  logFormat: 'json' | 'pretty' | 'auto';
  /** NODE_ENV=production turns on the production refusals. */
  production: boolean;
}

/** Rule 19's caps on texts (LATCHKEY_SMS_CAPS). */
export interface SmsCaps {
  number: Limit;
  sender: Limit;
  ip: Limit;
  global: Limit;
}

const SMS_CAPS_DEFAULT = 'number=5/h,sender=30/h,ip=10/h,global=500/h';
const CAP_WINDOWS = { m: 60_000, h: 3600_000, d: 24 * 3600_000 } as const;
const CAP_ITEM = /^\s*(number|sender|ip|global)\s*=\s*(\d{1,7})\s*\/\s*([mhd])\s*$/;

/** Parses `name=count/window,…` strictly: an unknown or repeated name, or a malformed cap, is a problem. */
export function parseSmsCaps(text: string | undefined, problems: string[]): SmsCaps {
  const caps: SmsCaps = {
    number: { max: 5, windowMs: CAP_WINDOWS.h },
    sender: { max: 30, windowMs: CAP_WINDOWS.h },
    ip: { max: 10, windowMs: CAP_WINDOWS.h },
    global: { max: 500, windowMs: CAP_WINDOWS.h },
  };
  if (text === undefined) return caps;
  const seen = new Set<string>();
  for (const item of text.split(',')) {
    const match = CAP_ITEM.exec(item);
    const name = match?.[1] as keyof SmsCaps | undefined;
    if (!match || !name || seen.has(name)) {
      problems.push(`LATCHKEY_SMS_CAPS: "${item.trim()}" must be number=, sender=, ip= or global= a count per m, h or d, each once (e.g. ${SMS_CAPS_DEFAULT})`);
      continue;
    }
    seen.add(name);
    caps[name] = { max: Number(match[2]), windowMs: CAP_WINDOWS[match[3] as keyof typeof CAP_WINDOWS] };
  }
  return caps;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const MAX_TOKEN_MINUTES = 24 * 60;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = get(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`${name}: "${value}" is not one of ${allowed.join(', ')}`);
    return fallback;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const value = get(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}: "${value}" must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const url = (name: string, fallback: string | undefined, protocols: string[]): string | undefined => {
    const value = get(name) ?? fallback;
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name}: "${redactUrl(value)}" must start with ${protocols.join(' or ')}//`);
      }
    } catch {
      problems.push(`${name}: "${redactUrl(value)}" is not a valid URL`);
    }
    return value;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const value = get(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'on', 'true', 'yes'].includes(value)) return true;
    if (['0', 'off', 'false', 'no'].includes(value)) return false;
    problems.push(`${name}: "${value}" must be on or off`);
    return fallback;
  };

  const production = get('NODE_ENV') === 'production';
  const publicUrlText = url('LATCHKEY_PUBLIC_URL', 'http://localhost:3000', ['http:', 'https:']) ?? '';
  let publicUrl = new URL('http://localhost:3000');
  try {
    publicUrl = new URL(publicUrlText);
  } catch {
    /* reported above */
  }
  const dataDir = get('LATCHKEY_DATA_DIR') ?? './data';
  // The embedded database lives in the data folder beside the secret, so two data folders are two instances.
  const databaseUrl = get('LATCHKEY_DATABASE_URL') ?? `sqlite:${dataDir.replace(/\/+$/, '')}/latchkey.db`;
  if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(databaseUrl)) {
    problems.push(`LATCHKEY_DATABASE_URL: "${redactUrl(databaseUrl)}" must start with sqlite: or postgres://`);
  }
  const smtpUrl = url('LATCHKEY_SMTP_URL', undefined, ['smtp:', 'smtps:']);
  const smsWebhookUrl = url('LATCHKEY_SMS_WEBHOOK_URL', undefined, ['http:', 'https:']);
  const edition = oneOf('LATCHKEY_EDITION', ['cloud', 'box'] as const, 'cloud');
  // The box edition has no phone recovery unless a gateway is configured on purpose (issue 4); with real SMTP
  // but no SMS gateway phone recovery is simply off: texts never fall back to the development outbox then.
  const smsProvider = oneOf('LATCHKEY_SMS_PROVIDER', ['webhook', 'smsru', 'twilio', 'dev', 'none'] as const, smsWebhookUrl ? 'webhook' : edition === 'box' || smtpUrl ? 'none' : 'dev');
  const required = (name: string): string => {
    const value = get(name);
    if (value === undefined) problems.push(`${name}: required when LATCHKEY_SMS_PROVIDER=${smsProvider}`);
    return value ?? '';
  };
  let sms: SmsSettings;
  if (smsProvider === 'webhook') sms = { provider: 'webhook', url: smsWebhookUrl ?? required('LATCHKEY_SMS_WEBHOOK_URL') };
  else if (smsProvider === 'smsru') {
    sms = { provider: 'smsru', apiId: required('LATCHKEY_SMSRU_API_ID'), baseUrl: url('LATCHKEY_SMSRU_URL', 'https://sms.ru', ['http:', 'https:']) ?? '', from: get('LATCHKEY_SMSRU_FROM') };
  } else if (smsProvider === 'twilio') {
    sms = {
      provider: 'twilio',
      accountSid: required('LATCHKEY_TWILIO_ACCOUNT_SID'),
      authToken: required('LATCHKEY_TWILIO_AUTH_TOKEN'),
      from: required('LATCHKEY_TWILIO_FROM'),
      baseUrl: url('LATCHKEY_TWILIO_URL', 'https://api.twilio.com', ['http:', 'https:']) ?? '',
    };
  } else sms = { provider: smsProvider };
  const countries = get('LATCHKEY_SMS_COUNTRIES')?.split(',').map((c) => c.trim().toUpperCase()).filter(Boolean);
  for (const country of countries ?? []) {
    if (!/^[A-Z]{2}$/.test(country)) problems.push(`LATCHKEY_SMS_COUNTRIES: "${country}" is not a two-letter country code`);
  }
  const social = socialProviders(env, get, production, problems);
  const redisUrl = url('LATCHKEY_REDIS_URL', undefined, ['redis:', 'rediss:']);
  const region = (get('LATCHKEY_SMS_DEFAULT_REGION') ?? 'RU').toUpperCase();
  if (!/^[A-Z]{2}$/.test(region)) problems.push(`LATCHKEY_SMS_DEFAULT_REGION: "${region}" must be a two-letter country code`);
  const rateLimits = flag('LATCHKEY_RATE_LIMITS', true);
  const secret = get('LATCHKEY_SECRET');
  const trustedProxies = addressList('LATCHKEY_TRUSTED_PROXIES', get('LATCHKEY_TRUSTED_PROXIES'), problems);
  // A real transport is one that reaches people; the development outbox shows live links, so never both.
  const realTransport = smtpUrl !== undefined || ['webhook', 'smsru', 'twilio'].includes(smsProvider);
  if (realTransport && smsProvider === 'dev') problems.push('LATCHKEY_SMS_PROVIDER: dev (texts kept for /dev/outbox) is refused while LATCHKEY_SMTP_URL is set');
  const dev = flag('LATCHKEY_DEV', !realTransport && !production);
  if (dev && realTransport) problems.push('LATCHKEY_DEV: the development outbox is refused while a real mail or SMS transport is configured');
  if (secret !== undefined && secret.length < 32) problems.push('LATCHKEY_SECRET: must be at least 32 characters');

  const config: Config = {
    edition,
    boxPortal: { slug: get('LATCHKEY_BOX_PORTAL_SLUG') ?? 'company', title: get('LATCHKEY_BOX_PORTAL_TITLE') ?? 'Company portal' },
    checkwordTtlMinutes: integer('LATCHKEY_CHECKWORD_TTL_MINUTES', 60, 1, MAX_TOKEN_MINUTES),
    trustedProxies,
    management: { host: get('LATCHKEY_MANAGEMENT_HOST') ?? '127.0.0.1', port: integer('LATCHKEY_MANAGEMENT_PORT', 9464, 0, 65535) },
    host: get('LATCHKEY_HOST') ?? '127.0.0.1',
    port: integer('LATCHKEY_PORT', 3000, 0, 65535),
    publicUrl,
    databaseUrl,
    smtpUrl,
    mailFrom: get('LATCHKEY_MAIL_FROM') ?? 'Latchkey <no-reply@localhost>',
    sms,
    smsCountries: countries,
    smsDailyBudget: integer('LATCHKEY_SMS_DAILY_BUDGET', 1000, 0, 10_000_000),
    smsCaps: parseSmsCaps(get('LATCHKEY_SMS_CAPS'), problems),
    smsCodeTtlSeconds: integer('LATCHKEY_SMS_CODE_TTL_SECONDS', 60, 30, 600),
    phoneFlowTtlMinutes: integer('LATCHKEY_PHONE_FLOW_TTL_MINUTES', 15, 5, MAX_TOKEN_MINUTES),
    social,
    socialTimeoutMs: integer('LATCHKEY_SOCIAL_TIMEOUT_MS', 10_000, 100, 60_000),
    redisUrl,
    smsDefaultRegion: region,
    supportContact: get('LATCHKEY_SUPPORT_CONTACT'),
    totpIssuer: totpIssuer(get('LATCHKEY_TOTP_ISSUER'), publicUrl, problems),
    rateLimits,
    secret,
    dev,
    dataDir,
    emailLinkTtlMinutes: integer('LATCHKEY_EMAIL_LINK_TTL_MINUTES', 60, 1, MAX_TOKEN_MINUTES),
    sessionTtlHours: integer('LATCHKEY_SESSION_TTL_HOURS', 720, 1, 24 * 365),
    sessionIdleHours: integer('LATCHKEY_SESSION_IDLE_HOURS', 72, 1, 24 * 365),
    brand: brandSettings(get, production, problems),
    logLevel: oneOf('LATCHKEY_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    logFormat: oneOf('LATCHKEY_LOG_FORMAT', ['json', 'pretty', 'auto'] as const, 'auto'),
    production,
  };

  if (production) {
    if (smtpUrl === undefined) problems.push('LATCHKEY_SMTP_URL: required when NODE_ENV=production');
    if (publicUrl.protocol !== 'https:') problems.push('LATCHKEY_PUBLIC_URL: must be https:// when NODE_ENV=production');
    if (secret === undefined) problems.push('LATCHKEY_SECRET: required when NODE_ENV=production');
    if (!rateLimits) problems.push('LATCHKEY_RATE_LIMITS: off is refused when NODE_ENV=production');
    if (config.dev) problems.push('LATCHKEY_DEV: the development outbox is refused when NODE_ENV=production');
    if (sms.provider === 'dev') config.sms = { provider: 'none' };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The issuer of the `otpauth://` URI. Authenticator apps split the URI's label "issuer:login" at its colon,
 * so an issuer with one would show a wrong name (the default is the host name, without its port).
 */
function totpIssuer(value: string | undefined, publicUrl: URL, problems: string[]): string {
  if (value === undefined) return publicUrl.hostname;
  const issuer = value.trim();
  if (issuer === '' || issuer.length > 64 || issuer.includes(':')) problems.push('LATCHKEY_TOTP_ISSUER: 1-64 characters, no colon');
  return issuer;
}

const BRAND_NAME_MAX = 40;
const BRAND_SVG_MAX = 32 * 1024;

/** LATCHKEY_BRAND_*: each bad value is a problem naming its variable; the defaults are Latchkey's own. */
function brandSettings(get: (name: string) => string | undefined, production: boolean, problems: string[]): Brand {
  const name = get('LATCHKEY_BRAND_NAME') ?? DEFAULT_BRAND.name;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (name.length > BRAND_NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    problems.push(`LATCHKEY_BRAND_NAME: must be 1 to ${BRAND_NAME_MAX} characters on one line`);
  }
  const color = (get('LATCHKEY_BRAND_COLOR') ?? DEFAULT_BRAND.color).toLowerCase();
  if (!BRAND_COLOR.test(color)) problems.push(`LATCHKEY_BRAND_COLOR: "${color}" must be a colour written #rgb or #rrggbb (e.g. #2f6fde)`);
  const logoUrl = get('LATCHKEY_BRAND_LOGO_URL');
  const logoSvg = get('LATCHKEY_BRAND_LOGO_SVG');
  let logo: Brand['logo'];
  if (logoUrl !== undefined && logoSvg !== undefined) {
    problems.push('LATCHKEY_BRAND_LOGO_URL: set either it or LATCHKEY_BRAND_LOGO_SVG, not both');
  } else if (logoUrl !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(logoUrl);
    } catch {
      /* reported below */
    }
    if (!parsed || !(parsed.protocol === 'https:' || (parsed.protocol === 'http:' && !production))) {
      problems.push(`LATCHKEY_BRAND_LOGO_URL: "${logoUrl.slice(0, 200)}" must be an https:// address of an image (http:// only outside production)`);
    } else logo = { kind: 'url', url: parsed.href };
  } else if (logoSvg !== undefined) {
    if (logoSvg.length > BRAND_SVG_MAX || !/^(<\?xml[^>]*\?>\s*)?<svg[\s>][\s\S]*<\/svg>$/i.test(logoSvg)) {
      problems.push(`LATCHKEY_BRAND_LOGO_SVG: must be one <svg>…</svg> document of at most ${BRAND_SVG_MAX / 1024} KiB`);
    } else logo = { kind: 'svg', svg: logoSvg };
  }
  return { name, logo, color: color.length === 4 ? `#${[...color.slice(1)].map((c) => c + c).join('')}` : color };
}

/** A comma-separated list of IP addresses and CIDR ranges (v4 or v6); each bad entry is a problem. */
function addressList(name: string, value: string | undefined, problems: string[]): string[] {
  const entries = value?.split(',').map((entry) => entry.trim()).filter(Boolean) ?? [];
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || extra !== undefined) problems.push(`${name}: "${entry}" is not an IP address or CIDR range`);
  }
  return entries;
}

const SOCIAL_VARIABLE = /^LATCHKEY_SOCIAL_([A-Z0-9]+)_(CLIENT_ID|CLIENT_SECRET|ISSUER|TITLE)$/;

/** Collects every provider named by a `LATCHKEY_SOCIAL_<ID>_*` variable; an incomplete one is a problem, not ignored. */
function socialProviders(env: Env, get: (name: string) => string | undefined, production: boolean, problems: string[]): SocialProviderSettings[] {
  const ids = new Set<string>();
  for (const name of Object.keys(env)) {
    const match = SOCIAL_VARIABLE.exec(name);
    if (match?.[1] && get(name) !== undefined) ids.add(match[1]);
  }
  const providers: SocialProviderSettings[] = [];
  for (const id of [...ids].sort()) {
    const prefix = `LATCHKEY_SOCIAL_${id}_`;
    const known = KNOWN_SOCIAL[id];
    const clientId = get(`${prefix}CLIENT_ID`);
    const issuer = get(`${prefix}ISSUER`) ?? known?.issuer;
    if (clientId === undefined) problems.push(`${prefix}CLIENT_ID: required for the ${id} sign-in provider`);
    if (issuer === undefined) {
      problems.push(`${prefix}ISSUER: required for the ${id} sign-in provider (the URL of an OpenID Connect issuer)`);
      continue;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(issuer);
    } catch {
      problems.push(`${prefix}ISSUER: "${issuer}" is not a valid URL`);
      continue;
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback && !production)) {
      problems.push(`${prefix}ISSUER: "${issuer}" must start with https:// (http:// only on a loopback host outside production)`);
      continue;
    }
    if (clientId === undefined) continue;
    providers.push({
      id: id.toLowerCase(),
      kind: known?.kind ?? 'oidc',
      clientId,
      clientSecret: get(`${prefix}CLIENT_SECRET`),
      issuer,
      title: get(`${prefix}TITLE`) ?? known?.title ?? id.charAt(0) + id.slice(1).toLowerCase(),
    });
  }
  return providers;
}

/** Hides a password in a URL before it is printed. */
export function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
