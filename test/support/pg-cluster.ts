// A throwaway PostgreSQL cluster a test owns: initdb into a temp folder, then start, stop and start again on
// the same port (fault tests stop the database under load). The logic is test/run.js's (which starts the
// run's shared server and stays plain JavaScript, so it keeps its own copy): find the binaries, run them as
// an unprivileged user when we are root, fsync off. `destroy()` always removes everything.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/** The directory holding initdb, pg_ctl and postgres together, or null when PostgreSQL is not installed. */
export function findPgBinDir(): string | null {
  const onPath = which('initdb');
  if (onPath) {
    const real = fs.realpathSync(onPath);
    for (const dir of [path.dirname(real), path.dirname(onPath)]) {
      if (isExecutable(path.join(dir, 'pg_ctl'))) return dir;
    }
  }
  const base = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(base);
  } catch {
    // not installed
  }
  versions.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  for (const v of versions) {
    const dir = path.join(base, v, 'bin');
    if (isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

const userExists = (name: string) => spawnSync('id', ['-u', name], { stdio: 'ignore' }).status === 0;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** PostgreSQL refuses to run as root: when we are root, its tools run as an unprivileged user. */
function pickPgUser(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  if (userExists('postgres')) return 'postgres';
  const fallback = 'latchkey-pg';
  if (!userExists(fallback)) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', fallback], { encoding: 'utf8' });
    if (r.status !== 0 && !userExists(fallback)) throw new Error(`cannot create user ${fallback}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  return fallback;
}

function asUser(user: string | null, cmd: string, args: string[]): [string, string[]] {
  if (!user) return [cmd, args];
  if (which('runuser')) return ['runuser', ['-u', user, '--', cmd, ...args]];
  if (which('setpriv')) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim();
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim();
    return ['setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', cmd, ...args]];
  }
  return ['su', ['-s', '/bin/sh', user, '-c', [cmd, ...args].map(shellQuote).join(' ')]];
}

/** A free TCP port on 127.0.0.1 (free when we look). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 90_000): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ status: 127, output: `${output}${err.message}\n` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, output });
    });
  });
}

export class PgCluster {
  private constructor(
    private readonly binDir: string,
    private readonly user: string | null,
    private readonly dir: string,
    readonly port: number,
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** initdb a new cluster in a temp folder and start it on a free port. */
  static async create(): Promise<PgCluster> {
    const binDir = findPgBinDir();
    if (!binDir) throw new Error('PostgreSQL binaries not found (no initdb on PATH or under /usr/lib/postgresql/*/bin)');
    const user = pickPgUser();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-pgc-'));
    fs.chmodSync(dir, 0o700);
    if (user) {
      const r = spawnSync('chown', ['-R', `${user}:`, dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`chown ${dir} failed: ${(r.stderr || '').trim()}`);
    }
    const cluster = new PgCluster(binDir, user, dir, await freePort());
    try {
      const initArgs = ['-D', cluster.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'];
      let r = await cluster.tool('initdb', [...initArgs, '--locale=C.UTF-8']);
      if (r.status !== 0) {
        fs.rmSync(cluster.dataDir, { recursive: true, force: true });
        r = await cluster.tool('initdb', [...initArgs, '--no-locale']);
      }
      if (r.status !== 0) throw new Error(`initdb failed:\n${r.output}`);
      await cluster.start();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  private tool(name: string, args: string[]) {
    const [cmd, fullArgs] = asUser(this.user, path.join(this.binDir, name), args);
    return run(cmd, fullArgs, this.dir);
  }

  /** Starts (or restarts) the server on its port and waits until it accepts connections. */
  async start(): Promise<void> {
    const opts = [`-h 127.0.0.1 -p ${this.port} -k ${this.dir}`, '-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100'].join(' ');
    const r = await this.tool('pg_ctl', ['-D', this.dataDir, '-l', path.join(this.dir, 'log'), '-w', '-t', '60', '-o', opts, 'start']);
    if (r.status !== 0) {
      let log = '';
      try {
        log = fs.readFileSync(path.join(this.dir, 'log'), 'utf8').slice(-4000);
      } catch {
        // no log
      }
      throw new Error(`pg_ctl start failed:\n${r.output}\n--- server log ---\n${log}`);
    }
  }

  /** `pg_ctl stop -m <mode>`: fast ends sessions with 57P01 and shuts down cleanly; immediate is a crash. */
  async stop(mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) return;
    const r = await this.tool('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    if (r.status !== 0) throw new Error(`pg_ctl stop failed:\n${r.output}`);
  }

  /** Stops the server (immediately) and removes the cluster's folder. Safe to call more than once. */
  async destroy(): Promise<void> {
    try {
      await this.stop('immediate');
    } catch {
      try {
        const pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 5 });
  }
}
