/**
 * A throwaway PostgreSQL cluster for one bench run, the way test/run.js starts one for the tests:
 * `initdb` + `pg_ctl` in a temporary folder on a free loopback port, as the `postgres` user when we are
 * root (PostgreSQL refuses to run as root), with the same durability-off settings as the tests (nothing
 * here must survive a crash). Both servers under test (Latchkey and Better Auth) get their own database
 * in this one cluster, so they share the same PostgreSQL, configuration and machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface Postgres {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  /** "PostgreSQL 15.x": what `postgres --version` says. */
  version: string;
  /** The postmaster's pid (for CPU accounting: its backends are its children). */
  pid(): number | undefined;
  /** Stops the cluster at once and removes its folder; synchronous, so it can run on any exit path. */
  stop(): void;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** The folder holding initdb, pg_ctl and postgres together. */
function findPgBinDir(): string {
  const onPath = which('initdb');
  if (onPath) {
    const real = fs.realpathSync(onPath);
    for (const dir of [path.dirname(real), path.dirname(onPath)]) if (isExecutable(path.join(dir, 'pg_ctl'))) return dir;
  }
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => b.localeCompare(a, 'en', { numeric: true })) : [];
  for (const version of versions) {
    const dir = path.join(base, version, 'bin');
    if (isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'pg_ctl'))) return dir;
  }
  throw new Error('PostgreSQL binaries not found (no initdb on PATH or under /usr/lib/postgresql/*/bin); install the `postgresql` package');
}

/** Root runs PostgreSQL's tools as `postgres` (the bench never creates users; the tests' runner may). */
function pgUser(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const user of ['postgres', 'latchkey-pg']) if (spawnSync('id', ['-u', user], { stdio: 'ignore' }).status === 0) return user;
  throw new Error('running as root and there is no `postgres` user to run PostgreSQL as');
}

function asUser(user: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return user ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, args];
}

function run(cmd: string, args: string[], cwd: string): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (error) => resolve({ status: 127, output: `${output}${error.message}` }));
    child.once('close', (code) => resolve({ status: code ?? 1, output }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startPostgres(): Promise<Postgres> {
  const binDir = findPgBinDir();
  const user = pgUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'log');
  fs.chmodSync(dir, 0o700);
  if (user) {
    const chown = spawnSync('chown', ['-R', `${user}:`, dir], { encoding: 'utf8' });
    if (chown.status !== 0) throw new Error(`chown ${dir} failed: ${chown.stderr.trim()}`);
  }
  let started = false;
  const stop = () => {
    if (started && fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
      const [cmd, args] = asUser(user, path.join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      spawnSync(cmd, args, { cwd: dir, stdio: 'ignore', timeout: 30_000 });
    }
    started = false;
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  try {
    const tool = (name: string, args: string[]) => {
      const [cmd, full] = asUser(user, path.join(binDir, name), args);
      return run(cmd, full, dir);
    };
    const initArgs = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'];
    let result = await tool('initdb', [...initArgs, '--locale=C.UTF-8']);
    if (result.status !== 0) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      result = await tool('initdb', [...initArgs, '--no-locale']);
    }
    if (result.status !== 0) throw new Error(`initdb failed:\n${result.output}`);
    let port = 0;
    for (let attempt = 1; ; attempt += 1) {
      port = await freePort();
      const options = [
        `-h 127.0.0.1 -p ${port} -k ${dir}`,
        // As in the tests: durability off (a bench database is thrown away), room for both servers' pools.
        '-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB',
      ].join(' ');
      started = true;
      result = await tool('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options, 'start']);
      if (result.status === 0) break;
      started = false;
      if (attempt >= 3) throw new Error(`pg_ctl start failed:\n${result.output}\n${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''}`);
    }
    const version = spawnSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^postgres \(PostgreSQL\) /, 'PostgreSQL ');
    const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
    return {
      url,
      version,
      async createDatabase(name: string) {
        const client = new pg.Client({ connectionString: url('postgres') });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
        } finally {
          await client.end();
        }
      },
      pid() {
        try {
          return Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
        } catch {
          return undefined;
        }
      },
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}
