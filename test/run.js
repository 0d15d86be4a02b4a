#!/usr/bin/env node
// Test runner: starts one throwaway PostgreSQL cluster for the whole run, then runs
// the TypeScript tests through `node --import tsx --test`, and always tears the
// cluster down again (also on failure, SIGINT and SIGTERM).
//
//   node test/run.js                 every test/**/*.test.ts (e2e included unless LATCHKEY_E2E=0)
//   node test/run.js a.test.ts ...   only the given files
//
// If LATCHKEY_TEST_PG_URL is already set, that server is used and none is started.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = path.join(repoRoot, 'test');
const e2eRoot = path.join(testRoot, 'e2e');

// ---------------------------------------------------------------------------
// Test files

function findTestFiles() {
  const includeE2e = process.env.LATCHKEY_E2E !== '0';
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules') continue;
        if (!includeE2e && full === e2eRoot) continue;
        walk(full);
      } else if (entry.isFile() && entry.name.endsWith('.test.ts')) {
        found.push(path.relative(process.cwd(), full) || full);
      }
    }
  };
  walk(testRoot);
  return found.sort();
}

// ---------------------------------------------------------------------------
// Child process bookkeeping, so signals can reach whatever is running

let current = null; // the child process we are waiting on right now (setup step or test run)
let aborted = null; // the signal name once we were asked to stop

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    current = child;
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    child.on('error', (err) => {
      current = null;
      resolve({ status: 127, output: `${out}${err.message}\n` });
    });
    child.on('close', (code, signal) => {
      current = null;
      resolve({ status: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1), output: out });
    });
  });
}

// ---------------------------------------------------------------------------
// PostgreSQL

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

// The directory holding initdb, pg_ctl and postgres together.
function findPgBinDir() {
  const onPath = which('initdb');
  if (onPath) {
    // /usr/local/bin/initdb may be a symlink; its target's directory has all three.
    const real = fs.realpathSync(onPath);
    for (const dir of [path.dirname(real), path.dirname(onPath)]) {
      if (isExecutable(path.join(dir, 'pg_ctl'))) return dir;
    }
  }
  const base = '/usr/lib/postgresql';
  let versions = [];
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

function userExists(name) {
  return spawnSync('id', ['-u', name], { stdio: 'ignore' }).status === 0;
}

function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

// PostgreSQL refuses to run as root: when we are root, run its tools as an unprivileged user.
function pickPgUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  if (userExists('postgres')) return 'postgres';
  const fallback = 'latchkey-pg';
  if (!userExists(fallback)) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', fallback], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`cannot create user ${fallback}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  return fallback;
}

// Turns [cmd, ...args] into a command line that runs as `user` (or as ourselves if user is null).
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

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let pg = null; // { binDir, dir, dataDir, user } once a cluster directory exists
let cleanedUp = false;

// Synchronous so it can also run from the 'exit' handler.
function cleanup() {
  if (cleanedUp || !pg) return;
  cleanedUp = true;
  const { binDir, dir, dataDir, user } = pg;
  if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
    const [cmd, args] = asUser(user, path.join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    const r = spawnSync(cmd, args, { cwd: dir, stdio: 'ignore', timeout: 30_000 });
    if (r.status !== 0) {
      // Last resort: signal the postmaster directly (SIGQUIT = immediate shutdown).
      try {
        const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
  }
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  } catch (err) {
    process.stderr.write(`latchkey test runner: could not remove ${dir}: ${err.message}\n`);
  }
}

function checkAborted() {
  if (aborted) {
    cleanup();
    process.exit(128 + (os.constants.signals[aborted] ?? 0));
  }
}

async function startPostgres() {
  const binDir = findPgBinDir();
  if (!binDir) {
    throw new Error(
      'PostgreSQL binaries not found (no initdb on PATH or under /usr/lib/postgresql/*/bin); install the `postgresql` package or set LATCHKEY_TEST_PG_URL',
    );
  }
  const user = pickPgUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'log');
  pg = { binDir, dir, dataDir, user };
  fs.chmodSync(dir, 0o700); // postgres insists the data/socket area is private
  if (user) {
    const r = spawnSync('chown', ['-R', `${user}:`, dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`chown ${dir} failed: ${(r.stderr || '').trim()}`);
  }
  // cwd: the tmp dir, because the postgres user may not be able to enter the repo.
  const pgRun = (tool, args) => {
    const [cmd, fullArgs] = asUser(user, path.join(binDir, tool), args);
    return run(cmd, fullArgs, { cwd: dir });
  };

  const initArgs = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'];
  let r = await pgRun('initdb', [...initArgs, '--locale=C.UTF-8']);
  checkAborted();
  if (r.status !== 0) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    r = await pgRun('initdb', [...initArgs, '--no-locale']);
    checkAborted();
  }
  if (r.status !== 0) throw new Error(`initdb failed:\n${r.output}`);

  // The port is free when we look; if someone grabs it before postgres does, try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const opts = [
      `-h 127.0.0.1 -p ${port} -k ${dir}`,
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200',
    ].join(' ');
    r = await pgRun('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', opts, 'start']);
    checkAborted();
    if (r.status === 0) {
      const version = spawnSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout?.trim();
      process.stderr.write(
        `latchkey test runner: ${version || 'PostgreSQL'} on 127.0.0.1:${port} (data in ${dir}, run as ${user ?? os.userInfo().username})\n`,
      );
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
    }
    let log = '';
    try {
      log = fs.readFileSync(logFile, 'utf8');
    } catch {
      // no log written
    }
    if (attempt >= 3) throw new Error(`pg_ctl start failed:\n${r.output}\n--- server log ---\n${log}`);
  }
}

// ---------------------------------------------------------------------------
// Main

function onSignal(signal) {
  if (aborted) {
    // Second signal: stop waiting politely.
    current?.kill('SIGKILL');
    cleanup();
    process.exit(128 + (os.constants.signals[signal] ?? 0));
  }
  aborted = signal;
  if (current) {
    current.kill(signal); // its exit carries on the normal path, which cleans up
    setTimeout(() => {
      current?.kill('SIGKILL');
    }, 15_000).unref();
  } else {
    checkAborted();
  }
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);
process.on('exit', cleanup);

function nodeSupports(flag) {
  const help = spawnSync(process.execPath, ['--help'], { encoding: 'utf8' }).stdout ?? '';
  return help.includes(flag);
}

async function main() {
  const files = process.argv.length > 2 ? process.argv.slice(2) : findTestFiles();
  if (files.length === 0) {
    process.stderr.write('latchkey test runner: no test files found\n');
    return 0;
  }

  const env = { ...process.env };
  // Tests that spawn `latchkey` (CLI, crash/restart, two nodes) run the same bundle `npm start` runs: one
  // precompiled file starts in well under a second, where tsx compiles the sources again in every process.
  // bin/latchkey.js falls back to the sources by itself if src/ changes after this build.
  if (env.LATCHKEY_FROM_SOURCE !== '1') {
    const built = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.js')], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('npm run build failed');
  }
  if (!env.LATCHKEY_TEST_PG_URL) env.LATCHKEY_TEST_PG_URL = await startPostgres();

  const nodeArgs = ['--import', 'tsx', '--test'];
  if (nodeSupports('--test-concurrency')) nodeArgs.push('--test-concurrency=2');
  // A hung test (a deadlock, a lost letter) fails after 3 minutes instead of holding CI to its limit.
  if (nodeSupports('--test-timeout')) nodeArgs.push('--test-timeout=180000');
  nodeArgs.push('--test-reporter=spec', ...files);

  return new Promise((resolve) => {
    const child = spawn(process.execPath, nodeArgs, { stdio: 'inherit', env });
    current = child;
    child.on('error', (err) => {
      current = null;
      process.stderr.write(`latchkey test runner: cannot start node: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      current = null;
      // An interrupted run is never a pass (node --test exits 0 after SIGINT).
      if (aborted) resolve(128 + (os.constants.signals[aborted] ?? 0));
      else resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
    });
  });
}

let exitCode;
try {
  exitCode = await main();
} catch (err) {
  process.stderr.write(`latchkey test runner: ${err.message}\n`);
  exitCode = 1;
}
cleanup();
process.exit(exitCode);
