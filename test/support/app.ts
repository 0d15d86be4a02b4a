import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp, buildManagementApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildDeps, type Deps, type DepsOverrides } from '../../src/deps.js';
import { addPortal, addUser, type NewUserInput } from '../../src/flows/operator.js';
import { loggerOptions } from '../../src/kernel/logger.js';
import { createTestDatabase } from './pg.js';

export type TestDialect = 'sqlite' | 'postgres';
export const DIALECTS: TestDialect[] = ['sqlite', 'postgres'];

export interface TestApp {
  app: FastifyInstance;
  /** The management listener's app (/metrics, /healthz, /readyz). */
  management: FastifyInstance;
  deps: Deps;
  /** Every log line the app wrote, for the "no secrets in logs" rule. */
  logs: string[];
  close(): Promise<void>;
}

export interface TestAppOptions extends DepsOverrides {
  dialect: TestDialect;
  env?: Record<string, string>;
  /** Start the outbox worker (default true). */
  worker?: boolean;
}

/**
 * The real app on a fresh database of the given dialect: SQLite in a temp folder or a new PostgreSQL
 * database on the run's throwaway server. Rate limits stay on unless the test turns them off.
 */
export async function startTestApp(options: TestAppOptions): Promise<TestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-test-'));
  const pgDb = options.dialect === 'postgres' ? await createTestDatabase() : undefined;
  const config = loadConfig({
    LATCHKEY_DATA_DIR: dir,
    LATCHKEY_DATABASE_URL: pgDb ? pgDb.url : `sqlite:${path.join(dir, 'latchkey.db')}`,
    LATCHKEY_PUBLIC_URL: 'http://localhost:3000',
    LATCHKEY_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = options.logger ?? pino(loggerOptions('debug'), sink);
  const deps = await buildDeps(config, { workerOptions: { pollMs: 50, backoffBaseMs: 100, backoffMaxMs: 1000 }, ...options, logger });
  const app = await buildApp(deps);
  await app.ready();
  const management = await buildManagementApp(deps);
  if (options.worker !== false) deps.worker.start();
  return {
    app,
    management,
    deps,
    logs,
    async close() {
      await app.close();
      await management.close();
      await deps.close();
      await pgDb?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const PASSWORD = 'correct-horse-battery-staple';

/** A portal and an account with a verified e-mail, a member of it. */
export async function seedAccount(deps: Deps, overrides: Partial<NewUserInput> = {}) {
  const slug = `p${Math.random().toString(36).slice(2, 8)}`;
  await addPortal(deps, { slug, title: `Portal ${slug}` });
  return addUser(deps, {
    login: 'ivan',
    email: 'ivan@example.com',
    password: PASSWORD,
    locale: 'en',
    portals: [{ slug, role: 'employee' }],
    ...overrides,
  });
}

export function cookieFrom(setCookie: string | string[] | undefined, name: string): string | undefined {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  for (const line of all) {
    const [pair = ''] = line.split(';');
    const [key, value] = pair.split('=');
    if (key === name) return value;
  }
  return undefined;
}
