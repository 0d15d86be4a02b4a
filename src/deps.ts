import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { devMailTransport, createSmtpTransport, type MailTransport } from './delivery/mail-transport.js';
import { Outbox } from './delivery/outbox.js';
import { createSmsTransport } from './delivery/sms/index.js';
import type { SmsTransport } from './delivery/sms-transport.js';
import { OutboxWorker, defaultWorkerOptions, type JobHandlers, type WorkerOptions } from './delivery/outbox.worker.js';
import { jobHandlers } from './job-handlers.js';
import { ensureBoxPortal } from './flows/box-portal.js';
import { checkInstance } from './flows/instance.js';
import type { FlowContext } from './flows/context.js';
import { systemClock, type Clock } from './kernel/clock.js';
import { Sealer } from './kernel/crypto.js';
import { createMetrics, type Metrics } from './kernel/metrics.js';
import { createArgon2Hasher, type PasswordHasher } from './kernel/password-hasher.js';
import { cryptoRandom, type Random } from './kernel/random.js';
import { MemoryRateLimiter, noRateLimits, type RateLimiter } from './kernel/rate-limiter.js';
import type { RedisRateLimiter } from './kernel/redis-rate-limiter.js';
import { loggerOptions } from './kernel/logger.js';
import { prettyDestination } from './kernel/pretty-log.js';
import { openStore, type Store } from './store/db.js';
import { migrateToLatest } from './store/migrations/index.js';
import { outboxDepth } from './store/outbox.repo.js';
import { createSocialProviders } from './social/index.js';
import { useBrand } from './ui/brand.js';

/** Everything the app needs, built once from the config and the ports (composition root). */
export interface Deps extends FlowContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  mail: MailTransport;
  worker: OutboxWorker;
  /** The outbox worker's job handlers (src/job-handlers.ts). */
  jobs: JobHandlers;
  close(): Promise<void>;
}

export interface DepsOverrides {
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  store?: Store;
  hasher?: PasswordHasher;
  limiter?: RateLimiter;
  mail?: MailTransport;
  sms?: SmsTransport;
  workerOptions?: Partial<WorkerOptions>;
}

/** LATCHKEY_SECRET, or a secret generated once into the data folder (readable only by its owner). */
export function loadSecret(config: Config, random: Random): Buffer {
  if (config.secret) return Buffer.from(config.secret, 'utf8');
  const file = path.resolve(config.dataDir, 'secret');
  if (fs.existsSync(file)) return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const secret = random.bytes(32);
  try {
    fs.writeFileSync(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
  } catch {
    // Another process wrote it first: use theirs.
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
  }
  return secret;
}

export async function buildDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const clock = overrides.clock ?? systemClock;
  useBrand(config.brand);
  const random = overrides.random ?? cryptoRandom;
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  const logger = overrides.logger ?? (pretty ? pino(loggerOptions(config.logLevel), prettyDestination(process.stdout)) : pino(loggerOptions(config.logLevel)));
  const store = overrides.store ?? openStore(config.databaseUrl);
  const secretKey = loadSecret(config, random);
  try {
    await migrateToLatest(store);
    // A database another edition or another secret made is refused before anything reads or sends from it.
    await checkInstance({ store, clock }, { edition: config.edition, secretKey });
  } catch (error) {
    // Nothing may keep the process alive after a refused start (a PostgreSQL pool would, for a while).
    if (!overrides.store) await store.close();
    throw error;
  }
  const outbox = new Outbox(new Sealer(secretKey, random), clock);
  const mail = overrides.mail ?? (config.smtpUrl ? createSmtpTransport(config.smtpUrl, config.mailFrom) : devMailTransport);
  const metrics = createMetrics(() => outboxDepth(store.db));
  // Several nodes share rate limits through Redis; while it is unreachable each node counts on its own.
  // The client is loaded only when configured, so a single node or a CLI command does not pay for it.
  let redisLimiter: RedisRateLimiter | undefined;
  if (!overrides.limiter && config.rateLimits && config.redisUrl) {
    const shared = await import('./kernel/redis-rate-limiter.js');
    redisLimiter = new shared.RedisRateLimiter(config.redisUrl, { fallback: new MemoryRateLimiter(clock), logger, registry: metrics.registry });
  }
  const flow: FlowContext = {
    store,
    clock,
    random,
    hasher: overrides.hasher ?? (await createArgon2Hasher()),
    outbox,
    limiter: overrides.limiter ?? redisLimiter ?? (config.rateLimits ? new MemoryRateLimiter(clock) : noRateLimits),
    settings: {
      edition: config.edition,
      publicUrl: config.publicUrl,
      checkwordTtlMinutes: config.checkwordTtlMinutes,
      emailLinkTtlMinutes: config.emailLinkTtlMinutes,
      sessionTtlHours: config.sessionTtlHours,
      sessionIdleHours: config.sessionIdleHours,
      smsDefaultRegion: config.smsDefaultRegion,
      smsCodeTtlSeconds: config.smsCodeTtlSeconds,
      phoneFlowTtlMinutes: config.phoneFlowTtlMinutes,
      smsCountries: config.smsCountries,
      smsDailyBudget: config.smsDailyBudget,
      smsCaps: config.smsCaps,
      smsEnabled: config.sms.provider !== 'none',
      totpIssuer: config.totpIssuer,
    },
    secretKey,
    smsRefusals: metrics.smsRefused,
    social: createSocialProviders(config.social, config.socialTimeoutMs),
  };
  // The box edition's one portal (seed B1–B3), created at first start; safe when two processes start together.
  if (config.edition === 'box') await ensureBoxPortal(flow, config.boxPortal);
  const sms = overrides.sms !== undefined ? overrides.sms : createSmsTransport(config.sms);
  const jobs = jobHandlers(flow, { metrics, logger });
  const worker = new OutboxWorker({ ...flow, jobs, mail, sms, logger, metrics }, { ...defaultWorkerOptions, ...overrides.workerOptions });
  return {
    ...flow,
    config,
    logger,
    metrics,
    mail,
    worker,
    jobs,
    async close() {
      await worker.stop();
      mail.close();
      await redisLimiter?.close();
      await store.close();
    },
  };
}
