/**
 * What the bench's child processes share: the environment they run the app with and the seeded
 * population. Every child gets a clean LATCHKEY_* set, so nothing from the caller's shell (an SMTP URL,
 * a PostgreSQL URL, NODE_ENV=production) can leak into the measured app.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_DIR = path.join(REPO_ROOT, 'bench');

/** Accounts seeded with a verified e-mail and a verified phone; every one of them has BENCH_PASSWORD. */
export const ACCOUNT_COUNT = 1000;
/** Passes the policy for every seeded profile (no part of `userNNNN` / `example.org` in it, not common). */
export const BENCH_PASSWORD = 'Glacier-Orbit-4417-Lantern';
/** What reset completions set: a new password must differ from the current one (BENCH_PASSWORD). */
export const COMPLETION_PASSWORD = 'Harbor-Quartz-9021-Meadow';
export const BENCH_PORTAL = 'bench';

export function existingLogin(i: number): string {
  return `user${String(i % ACCOUNT_COUNT).padStart(4, '0')}`;
}

export function existingEmail(i: number): string {
  return `${existingLogin(i)}@example.org`;
}

/** Same shapes and lengths as the existing ones, never seeded. */
export function unknownLogin(i: number): string {
  return `ghst${String(i % ACCOUNT_COUNT).padStart(4, '0')}`;
}

export function unknownEmail(i: number): string {
  return `${unknownLogin(i)}@example.org`;
}

/** E.164 Russian mobile numbers (+7 916 …): +79161000000 … +79161000999 are on the accounts. */
export function existingPhone(i: number): string {
  return `+7916${1_000_000 + (i % ACCOUNT_COUNT)}`;
}

/** Valid numbers of the same shape and length, +79162000000 … +79162000999, on no account. */
export function unknownPhone(i: number): string {
  return `+7916${2_000_000 + (i % ACCOUNT_COUNT)}`;
}

/**
 * Texts a day before the app stops sending codes (LATCHKEY_SMS_DAILY_BUDGET, 1000 by default). The
 * bench texts far more than 1000 known numbers, so it sets the largest allowed value: otherwise the
 * known-number phases would measure the "budget reached" path (no text, one error log line per job).
 */
export const BENCH_SMS_DAILY_BUDGET = 10_000_000;

/** The libuv threadpool size both servers (and the raw argon2id child) run with. */
export const THREADPOOL = Number(process.env.UV_THREADPOOL_SIZE) || 4;

/** The public URL both servers are configured with; requests to Better Auth carry it as their Origin. */
export const PUBLIC_URL = 'http://localhost:3000';

/** Accounts at the large scale (the seeded ones plus bulk-loaded `bulkNNNNNNN` ones). */
export const BULK_TOTAL = 1_000_000;

/** The n-th bulk-loaded account's login (1 ≤ n < BULK_TOTAL - ACCOUNT_COUNT + 1); its e-mail is `<login>@example.org`. */
export function bulkLogin(n: number): string {
  return `bulk${String(n).padStart(7, '0')}`;
}

/**
 * The environment of the seed and server children: the given database (PostgreSQL for the bench), the
 * data folder for anything else, no SMTP, texts to the development outbox (never a gateway), no rate limits.
 */
export function childEnv(dataDir: string, port: number, databaseUrl = `sqlite:${path.join(dataDir, 'latchkey.db')}`, managementPort = 0): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('LATCHKEY_') || key === 'NODE_ENV' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return {
    ...env,
    LATCHKEY_HOST: '127.0.0.1',
    LATCHKEY_PORT: String(port),
    LATCHKEY_MANAGEMENT_PORT: String(managementPort),
    LATCHKEY_DATA_DIR: dataDir,
    UV_THREADPOOL_SIZE: String(THREADPOOL),
    LATCHKEY_DATABASE_URL: databaseUrl,
    LATCHKEY_PUBLIC_URL: PUBLIC_URL,
    LATCHKEY_SECRET: 'bench-secret-bench-secret-bench-secret-0123456789',
    LATCHKEY_RATE_LIMITS: 'off',
    LATCHKEY_SMS_PROVIDER: 'dev',
    LATCHKEY_SMS_DAILY_BUDGET: String(BENCH_SMS_DAILY_BUDGET),
    LATCHKEY_DEV: '1',
    LATCHKEY_LOG_LEVEL: 'warn',
  };
}

/** The evidence phases (bench/evidence.ts): seeded accounts from this index on have a second factor. */
export const TWO_FACTOR_FROM = 200;

/** The TOTP secret (base32, 160 bits) of the i-th seeded account with a second factor: the bench computes its codes. */
export function benchTotpSecret(i: number): string {
  const bytes = crypto.createHash('sha1').update(`latchkey-bench-totp-${i}`).digest();
  return base32(bytes);
}

/** RFC 4648 base32 without padding, as authenticator apps take it. */
function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
