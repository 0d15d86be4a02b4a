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
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgCluster } from '../scripts/pg-cluster.js';

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

let cluster = null; // the run's PgCluster once its folder exists
let cleanedUp = false;

// Synchronous so it can also run from the 'exit' handler.
function cleanup() {
  if (cleanedUp || !cluster) return;
  cleanedUp = true;
  try {
    cluster.destroy();
  } catch (err) {
    process.stderr.write(`latchkey test runner: could not remove ${cluster.dir}: ${err.message}\n`);
  }
}

function checkAborted() {
  if (aborted) {
    cleanup();
    process.exit(128 + (os.constants.signals[aborted] ?? 0));
  }
}

async function startPostgres() {
  // Registered before anything slow, so a signal or a failure at any step still removes it; its tools run
  // through `run`, so a signal reaches them.
  cluster = new PgCluster({ settings: '-c max_connections=200', run: (cmd, args, cwd) => run(cmd, args, { cwd }) });
  await cluster.init();
  checkAborted();
  await cluster.start();
  checkAborted();
  process.stderr.write(
    `latchkey test runner: ${cluster.version} on 127.0.0.1:${cluster.port} (data in ${cluster.dir}, run as ${cluster.user ?? os.userInfo().username})\n`,
  );
  return cluster.url();
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
  // A file whose tests all finished ends even if a client socket of a stopped test server lingers: under a
  // loaded machine one such file once waited out its 3 minutes after passing (pages-phone, 2026-11-29).
  if (nodeSupports('--test-force-exit')) nodeArgs.push('--test-force-exit');
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
