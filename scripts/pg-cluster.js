// A throwaway PostgreSQL cluster: initdb into a temp folder, started with pg_ctl on a free loopback port,
// durability off (nothing here must survive a crash). PostgreSQL refuses to run as root, so when we are
// root its tools run as `postgres` (or a `latchkey-pg` user made for it). One copy for the test runner
// (test/run.js, plain JavaScript), the fault tests that stop and start their own cluster, and the bench.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from './free-port.js';

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/** The folder holding initdb, pg_ctl and postgres together, or null when PostgreSQL is not installed. */
export function findPgBinDir() {
  const onPath = which('initdb');
  if (onPath) {
    // /usr/local/bin/initdb may be a symlink; its target's folder has all three.
    const real = fs.realpathSync(onPath);
    for (const dir of [path.dirname(real), path.dirname(onPath)]) if (isExecutable(path.join(dir, 'pg_ctl'))) return dir;
  }
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => b.localeCompare(a, 'en', { numeric: true })) : [];
  for (const version of versions) {
    const dir = path.join(base, version, 'bin');
    if (isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

const userExists = (name) => spawnSync('id', ['-u', name], { stdio: 'ignore' }).status === 0;
const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** The user PostgreSQL's tools run as: null unless we are root. */
function pickPgUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  if (userExists('postgres')) return 'postgres';
  const fallback = 'latchkey-pg';
  if (!userExists(fallback)) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', fallback], { encoding: 'utf8' });
    if (r.status !== 0 && !userExists(fallback)) throw new Error(`cannot create user ${fallback}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  return fallback;
}

/** [cmd, ...args] as a command line that runs as `user` (or as ourselves when user is null). */
function asUser(user, cmd, args) {
  if (!user) return [cmd, args];
  if (which('runuser')) return ['runuser', ['-u', user, '--', cmd, ...args]];
  if (which('setpriv')) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim();
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim();
    return ['setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', cmd, ...args]];
  }
  return ['su', ['-s', '/bin/sh', user, '-c', [cmd, ...args].map(shellQuote).join(' ')]];
}

/** Runs a command to its end, collecting its output; never rejects. */
export function runCommand(cmd, args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ status: 127, output: `${output}${err.message}\n` }));
    child.on('close', (code) => resolve({ status: code ?? 1, output }));
  });
}

const DURABILITY_OFF = '-c fsync=off -c synchronous_commit=off -c full_page_writes=off';

export class PgCluster {
  /**
   * Makes the cluster's private temp folder (synchronously, so a caller can register it for clean-up
   * before anything slow happens); `init()` and `start()` do the rest. `run` runs one tool to its end
   * (the test runner passes one that signals can reach).
   */
  constructor({ prefix = 'latchkey-pg-', settings = '-c max_connections=100', run = runCommand } = {}) {
    const binDir = findPgBinDir();
    if (!binDir) {
      throw new Error('PostgreSQL binaries not found (no initdb on PATH or under /usr/lib/postgresql/*/bin); install the `postgresql` package');
    }
    this.binDir = binDir;
    this.user = pickPgUser();
    this.settings = settings;
    this.run = run;
    this.port = 0;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.dataDir = path.join(this.dir, 'data');
    this.logFile = path.join(this.dir, 'log');
    fs.chmodSync(this.dir, 0o700); // postgres insists the data and socket folder is private
    if (this.user) {
      const r = spawnSync('chown', ['-R', `${this.user}:`, this.dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`chown ${this.dir} failed: ${(r.stderr || '').trim()}`);
    }
  }

  /** A new cluster, initialised and started on a free port; removed again if any step fails. */
  static async create(options) {
    const cluster = new PgCluster(options);
    try {
      await cluster.init();
      await cluster.start();
    } catch (error) {
      cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** `postgres://postgres@127.0.0.1:<port>/<database>` */
  url(database = 'postgres') {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** What `postgres --version` says, as "PostgreSQL 15.x". */
  get version() {
    const out = spawnSync(path.join(this.binDir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
    return out.trim().replace(/^postgres \(PostgreSQL\) /, 'PostgreSQL ') || 'PostgreSQL';
  }

  tool(name, args) {
    const [cmd, fullArgs] = asUser(this.user, path.join(this.binDir, name), args);
    // cwd: the cluster's folder, which the postgres user can enter (the repository may not be).
    return this.run(cmd, fullArgs, this.dir);
  }

  async init() {
    const initArgs = ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'];
    let r = await this.tool('initdb', [...initArgs, '--locale=C.UTF-8']);
    if (r.status !== 0) {
      fs.rmSync(this.dataDir, { recursive: true, force: true });
      r = await this.tool('initdb', [...initArgs, '--no-locale']);
    }
    if (r.status !== 0) throw new Error(`initdb failed:\n${r.output}`);
  }

  /**
   * Starts the server and waits until it accepts connections: on its port again after a stop, else on a
   * free port (the port is free when we look; if someone takes it first, another is tried).
   */
  async start() {
    const keepPort = this.port !== 0;
    for (let attempt = 1; ; attempt += 1) {
      if (!keepPort) this.port = await freeLoopbackPort();
      const options = `-h 127.0.0.1 -p ${this.port} -k ${this.dir} ${DURABILITY_OFF} ${this.settings}`;
      const r = await this.tool('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60', '-o', options, 'start']);
      if (r.status === 0) return;
      if (keepPort || attempt >= 3) {
        const log = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-4000) : '';
        throw new Error(`pg_ctl start failed:\n${r.output}\n--- server log ---\n${log}`);
      }
    }
  }

  /** `pg_ctl stop -m <mode>`: fast ends sessions with 57P01 and shuts down cleanly; immediate is a crash. */
  async stop(mode = 'fast') {
    if (!fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) return;
    const r = await this.tool('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    if (r.status !== 0) throw new Error(`pg_ctl stop failed:\n${r.output}`);
  }

  /** The postmaster's pid while it runs (its backends are its children). */
  pid() {
    try {
      return Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
    } catch {
      return undefined;
    }
  }

  /** Stops the server at once and removes the folder. Synchronous, so it also runs from an 'exit' handler; safe twice. */
  destroy() {
    if (this.pid() !== undefined) {
      const [cmd, args] = asUser(this.user, path.join(this.binDir, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
      const r = spawnSync(cmd, args, { cwd: this.dir, stdio: 'ignore', timeout: 30_000 });
      const pid = this.pid();
      // Last resort: signal the postmaster directly (SIGQUIT = immediate shutdown).
      if (r.status !== 0 && pid !== undefined) {
        try {
          process.kill(pid, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 5 });
  }
}
