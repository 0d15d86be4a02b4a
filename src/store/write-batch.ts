import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { Db, Dialect, Executor, Store } from './db.js';
import type { Database } from './schema.js';

/** Statements a batch may hold: writes whose answer nobody reads. */
const WRITES: ReadonlySet<string> = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode']);

/** A Kysely driver that keeps the writes it is given instead of sending them (they go later, together). */
class Recorder implements Driver, DatabaseConnection {
  readonly queries: CompiledQuery[] = [];

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return this;
  }
  async beginTransaction(): Promise<void> {
    throw new Error('write batch: no transaction inside a batch');
  }
  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    // A read (or a write whose RETURNING is read) needs its answer now: it has no place in a batch.
    const node = query.query as { kind: string; returning?: unknown };
    if (!WRITES.has(node.kind) || node.returning !== undefined) return Promise.reject(new Error(`write batch: only writes without RETURNING (got ${node.kind})`));
    this.queries.push(query);
    return Promise.resolve({ rows: [], numAffectedRows: 0n });
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('write batch: no streaming (a stream is a read)');
  }
}

function recordingDb(dialect: Dialect, recorder: Recorder): Db {
  const postgres = dialect === 'postgres';
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => (postgres ? new PostgresAdapter() : new SqliteAdapter()),
      createDriver: () => recorder,
      createIntrospector: (db) => (postgres ? new PostgresIntrospector(db) : new SqliteIntrospector(db)),
      createQueryCompiler: () => (postgres ? new PostgresQueryCompiler() : new SqliteQueryCompiler()),
    },
  });
}

/**
 * The writes as one PostgreSQL statement: each one a data-modifying CTE, its `$n` parameters renumbered
 * after the ones before it. Every CTE sees the database as it was before the statement, so a batch must
 * not write one row twice nor hold a write that depends on another one of the batch.
 */
export function combineWrites(queries: readonly CompiledQuery[]): CompiledQuery {
  const parameters: unknown[] = [];
  const parts = queries.map((query, i) => {
    const offset = parameters.length;
    parameters.push(...query.parameters);
    return `w${i} as (${query.sql.replace(/\$(\d+)/g, (_match, n: string) => `$${Number(n) + offset}`)})`;
  });
  return CompiledQuery.raw(`with ${parts.join(', ')} select 1`, parameters);
}

/**
 * Runs `build` against an executor that only records writes, then sends them together: one round trip on
 * PostgreSQL instead of one per write (a sign-in or a recovery completion spends most of what it costs
 * beyond its argon2id hash on round trips), in order on SQLite, which is in-process. `into` is the open
 * transaction to write in, or the database: several writes outside a transaction are still atomic (one
 * statement on PostgreSQL, a transaction on SQLite). `build` must not read: the batch refuses reads.
 */
export async function writeTogether<T>(store: Store, into: Executor, build: (writes: Executor) => Promise<T>): Promise<T> {
  const recorder = new Recorder();
  const result = await build(recordingDb(store.dialect, recorder));
  const { queries } = recorder;
  if (queries.length === 0) return result;
  if (store.dialect === 'postgres') {
    await into.executeQuery(queries.length === 1 ? (queries[0] as CompiledQuery) : combineWrites(queries));
    return result;
  }
  const sendAll = async (tx: Executor) => {
    for (const query of queries) await tx.executeQuery(query);
  };
  if (into.isTransaction || queries.length === 1) await sendAll(into);
  else await into.transaction().execute(sendAll);
  return result;
}
