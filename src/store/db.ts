import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase, type Transaction } from 'kysely';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
/** A repository function takes either the database or an open transaction. */
export type Executor = Db | Transaction<Database>;

export interface Store {
  db: Db;
  dialect: Dialect;
  close(): Promise<void>;
}

/** Opens SQLite (`sqlite:<path>`, `sqlite::memory:`) or PostgreSQL (`postgres://…`). */
export function openStore(databaseUrl: string): Store {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const database = new SQLite(file === ':memory:' ? ':memory:' : file);
    // WAL lets readers run beside the writer; the busy timeout makes a second process wait, not fail.
    database.pragma('journal_mode = WAL');
    database.pragma('busy_timeout = 5000');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    // SQLite's own lower() folds ASCII only; searches (admin.repo.ts) need Cyrillic and every other script.
    database.function('lower', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value));
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
    return { db, dialect: 'sqlite', close: () => db.destroy() };
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    connectionTimeoutMillis: 3000,
  });
  // A client losing its server (restart, failover, `pg_ctl stop`) emits 'error'. The pool listens only while
  // the client is idle; a checked-out one (mid-query or mid-transaction, held by Kysely, which adds no
  // listener) would throw the error as an uncaught exception and take the process down. The query in
  // flight is rejected anyway (the request answers 503 unavailable), and the pool drops the broken client
  // when it comes back, so a listener on every client for its whole life is all that is needed.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/**
 * Kysely's SQLite driver prepares every query anew (~30 µs each on the event loop); the queries here are
 * a small fixed set, so one prepared statement per SQL text is kept (LRU-bounded).
 */
function withStatementCache(database: SQLite.Database, size = 256): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = database.prepare(text);
        const oldest = cache.keys().next();
        if (cache.size >= size && !oldest.done) cache.delete(oldest.value);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}
