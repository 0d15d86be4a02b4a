/**
 * A throwaway PostgreSQL cluster for one bench run (scripts/pg-cluster.js, as the tests use), with room
 * for both servers' pools. Both servers under test (Latchkey and Better Auth) get their own database in
 * this one cluster, so they share the same PostgreSQL, configuration and machine.
 */
import pg from 'pg';
import { PgCluster } from '../scripts/pg-cluster.js';

export interface Postgres {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  /** A new database, empty or a copy of `template` (which must have no connections then). */
  createDatabase(name: string, template?: string): Promise<void>;
  /** "PostgreSQL 15.x": what `postgres --version` says. */
  version: string;
  /** The postmaster's pid (for CPU accounting: its backends are its children). */
  pid(): number | undefined;
  /** Stops the cluster at once and removes its folder; synchronous, so it can run on any exit path. */
  stop(): void;
}

/** `extraSettings`: more `-c name=value` for the postmaster (bench/profile.ts loads pg_stat_statements). */
export async function startPostgres(extraSettings = ''): Promise<Postgres> {
  const cluster = await PgCluster.create({ prefix: 'latchkey-bench-pg-', settings: `-c max_connections=200 -c shared_buffers=256MB ${extraSettings}` });
  return {
    url: (database) => cluster.url(database),
    version: cluster.version,
    async createDatabase(name, template) {
      const client = new pg.Client({ connectionString: cluster.url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${template ? ` TEMPLATE ${client.escapeIdentifier(template)}` : ''}`);
      } finally {
        await client.end();
      }
    },
    pid: () => cluster.pid(),
    stop: () => cluster.destroy(),
  };
}
