/**
 * `npm run bench`: Latchkey beside Better Auth in one run on this machine, both on one throwaway
 * PostgreSQL, everything on 127.0.0.1; about 5 minutes when the machine is quiet. `BENCH_ONLY=evidence`
 * runs step 9 alone.
 *
 *   1. install Better Auth's pinned copy (bench/better-auth, `npm ci`) if it is missing; build Latchkey's
 *      bundle (`npm run build`, what `npm start` runs); start PostgreSQL (bench/pg.ts) with one database
 *      for each server;
 *   2. seed 1000 accounts into each: Latchkey's through its operator flows (bench/seed.ts), Better Auth's
 *      through its migration API plus plain inserts (bench/better-auth/server.mjs seed); every account has
 *      the same password, hashed once with argon2id at Latchkey's parameters;
 *   3. start Latchkey as `npm start` does (bench/server.js → bin/latchkey.js → dist/latchkey.js) three
 *      times and time spawn → /readyz 200 (the median counts); RSS idle;
 *   4. Latchkey: reset completion (`POST /api/v1/recovery/complete`) with fresh tokens minted straight into
 *      recovery_tokens (sha256 of each token, purpose email_link, one per account);
 *   5. Latchkey: e-mail reset requests for existing vs unknown logins in alternating phases EUUEEUUE (a
 *      drift hits both), the outbox drained and the tables it churned vacuumed between phases (its worker
 *      runs in the server as in production, deferring to requests); the same for phone recovery ("send me
 *      a code", KUUK);
 *   6. raw argon2id verify rate with the app's parameters (bench/argon2-raw.ts, its own process, servers
 *      idle), Latchkey sign-in at 2× the threadpool, the same again with /healthz probed beside it, raw
 *      argon2id again; the raw rate is the mean of both;
 *   7. Better Auth (bench/better-auth/server.mjs): the same reset-request phases and sign-in, with the same
 *      connections, threadpool, PostgreSQL and pool size; Latchkey is idle meanwhile;
 *   8. Latchkey: reset requests alternating existing/unknown in one phase at 1000 accounts (their
 *      latencies compared: both kinds see the same machine), then bulk-load accounts up to 1 000 000
 *      (INSERT … SELECT generate_series, VACUUM ANALYZE, CHECKPOINT) and the same again;
 *   9. the evidence phases (bench/evidence.ts), on their own database and server with real SMTP and an SMS
 *      gateway stub: reset requests against a bare one-INSERT route in the same process, letters under
 *      load at half and full capacity, the second-factor endpoint and sign-in with 2FA against plain sign-in;
 *  10. stop everything, remove PostgreSQL and the temp folder.
 * Between 6 and 7 (6b), OpenID Connect: the token endpoint (refresh_token grant) and userinfo on Latchkey's
 * provider (tokens from a real code flow, bench/oidc.ts), then the same on a raw oidc-provider with its
 * in-memory adapter (bench/oidc-raw.ts, its own process), and the ratio: what Latchkey's storage costs.
 * BENCH_ONLY=oidc runs steps 1–3 (Latchkey alone, started once) and 6b only, and prints just those rows.
 * The machine's CPU use by other processes is measured beside each figure (bench/cpu.ts); PostgreSQL's
 * backends count as ours.
 *
 * Prints a table (figure, value, target, holds) and writes the same, with details, to bench/results.json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { freeLoopbackPort } from '../scripts/free-port.js';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  ACCOUNT_COUNT,
  BENCH_DIR,
  BENCH_PASSWORD,
  BENCH_SMS_DAILY_BUDGET,
  BULK_TOTAL,
  COMPLETION_PASSWORD,
  PUBLIC_URL,
  REPO_ROOT,
  THREADPOOL,
  bulkLogin,
  childEnv,
  existingEmail,
  existingLogin,
  existingPhone,
  unknownEmail,
  unknownLogin,
  unknownPhone,
} from './env.js';
import { HOST, runPhase, send, startProbe, type PhaseResult, type RequestSpec } from './load.js';
import { latchkeyTokens, refreshRequest, registerBenchClient, userinfoRequest, type OidcTokens } from './oidc.js';
import { cpuMeter, type CpuUse } from './cpu.js';
import { runEvidence, type EvidenceContext } from './evidence.js';
import { startPostgres, type Postgres } from './pg.js';
import { loadDeviceCookies, signInRequest } from './sign-in.js';
import { summarize, type Summary } from './stats.js';

// ---------------------------------------------------------------------------
// Settings

const RECOVERY_CONCURRENCY = 16;
const RECOVERY_PHASE_MS = 1500;
/** Long enough for both servers' hot paths to be compiled (Better Auth's keeps speeding up for seconds). */
const RECOVERY_WARMUP_MS = 3000;
/**
 * ABBA: a linear drift (a growing outbox table, a warming JIT) costs both kinds the same. Phone recovery
 * and Better Auth run with the same connections, phase length, warm-up and order.
 */
const RECOVERY_ORDER: Array<'existing' | 'unknown'> = ['existing', 'unknown', 'unknown', 'existing', 'existing', 'unknown', 'unknown', 'existing'];
/** Phone recovery, a second look at the same property, runs half as many phases. */
const PHONE_ORDER: Array<'existing' | 'unknown'> = ['existing', 'unknown', 'unknown', 'existing'];
const SIGNIN_CONCURRENCY = 2 * THREADPOOL;
const SIGNIN_WARMUP_MS = 1000;
const SIGNIN_MS = 6000;
/** The second sign-in phase, with /healthz probed beside it. */
const PROBE_MS = 5000;
const COMPLETION_WARMUP_MS = 1000;
const COMPLETION_MS = 5000;
const RAW_MS = 5000;
const RAW_WARMUP_MS = 500;
/** Reset requests at 1000 and at 1 000 000 accounts: the same mix, connections and length. */
const SCALE_WARMUP_MS = 1500;
const SCALE_MS = 4000;
/** Token endpoint and userinfo, each on Latchkey and on the raw oidc-provider. */
const OIDC_CONCURRENCY = 16;
const OIDC_WARMUP_MS = 1000;
const OIDC_MS = 3000;
const READY_RUNS = 3;
const HEALTHZ_INTERVAL_MS = 10;
const READY_TIMEOUT_MS = 30_000;
/** Drains after load phases deliver tens of thousands of messages (the worker defers to requests meanwhile). */
const DRAIN_TIMEOUT_MS = 180_000;
/** The whole bench gives up (and still cleans up) after this long. */
const WATCHDOG_MS = 1_500_000;
/**
 * `BENCH_ONLY=evidence npm run bench` runs only the evidence phases (bench/evidence.ts: ceiling, letters under
 * load, second factor) after the build and PostgreSQL, for working on them; unset runs everything.
 */
const BENCH_ONLY = process.env.BENCH_ONLY ?? '';
const RESULTS_FILE = path.join(BENCH_DIR, 'results.json');
/** `BENCH_ONLY=oidc` or `evidence`: only that phase (while working on it); unset runs everything. */
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'oidc' && ONLY !== 'evidence') throw new Error(`BENCH_ONLY=${ONLY}: the phases that run alone are oidc and evidence`);
const BETTER_AUTH_DIR = path.join(BENCH_DIR, 'better-auth');

const TARGET_RECOVERY_RATIO = 0.05;
const TARGET_OVER_RAW = 0.9;
/** argon2id computations in one reset completion: hash the new password, verify it is not the current one. */
const COMPLETION_HASHES = 2;
const TARGET_HEALTHZ_P99_MS = 25;
const TARGET_RSS_MIB = 200;
const TARGET_READY_MS = 1500;
const TARGET_OVER_BETTER_AUTH = 5;
const TARGET_SCALE_P99 = 2;
/** Above this much CPU used by processes the bench did not start, the machine was not quiet. */
const QUIET_FOREIGN_CORES = 0.1;
/** Before measuring, wait at most this long for the other processes to quieten down. */
const QUIET_WAIT_MS = 15_000;

// ---------------------------------------------------------------------------
// Processes and cleanup

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'));
const children = new Set<ChildProcess>();
let postgres: Postgres | undefined;
let cleaned = false;

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function tsxArgs(script: string, args: string[] = []): string[] {
  return ['--import', 'tsx', path.join(BENCH_DIR, script), ...args];
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Stops one child we started: SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  }
  children.delete(child);
}

async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await Promise.all([...children].map((child) => stopChild(child)));
  postgres?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

// Last resort on any exit path: PostgreSQL runs detached (pg_ctl), so it must be stopped explicitly.
process.on('exit', () => postgres?.stop());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  log(`still running after ${WATCHDOG_MS / 1000} s: giving up`);
  void cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

/** Runs a node child to completion and parses the JSON line it prints. */
async function runJsonChild<T>(nodeArgs: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<T> {
  const child = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);
  children.delete(child);
  if (code !== 0) throw new Error(`${nodeArgs.join(' ')} exited with ${code}:\n${stderr.trim()}`);
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as T;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (up to QUIET_WAIT_MS) for a second in which other processes leave the CPU alone; returns what it saw. */
async function waitForQuiet(): Promise<{ waitedMs: number; foreign: number }> {
  const start = performance.now();
  let foreign = Number.NaN;
  do {
    const meter = cpuMeter({ bench: process.pid }, { postgres: postgres?.pid() });
    if (!meter) break;
    await sleep(1000);
    foreign = meter.end().foreign;
    if (foreign < QUIET_FOREIGN_CORES * 2) break;
  } while (performance.now() - start < QUIET_WAIT_MS);
  return { waitedMs: Math.round(performance.now() - start), foreign };
}

/** Runs a command to completion (npm ci, the build), failing the bench with its output if it fails. */
function runOrThrow(cmd: string, args: string[], what: string): void {
  const result = spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  if (result.status !== 0) throw new Error(`${what} failed (${cmd} ${args.join(' ')}):\n${result.stdout}${result.stderr}${result.error?.message ?? ''}`);
}

// ---------------------------------------------------------------------------
// Server observations

/** Resident set of a process in MiB, from /proc (Linux); NaN when it cannot be read. */
function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples the server's RSS every 100 ms; `take` returns the peak since the last take. */
function rssSampler(pid: number | undefined) {
  let peak = Number.NaN;
  const sample = () => {
    const value = rssMiB(pid);
    if (!Number.isNaN(value) && !(value <= peak)) peak = value;
  };
  const timer = setInterval(sample, 100);
  return {
    take(): number {
      sample();
      const value = peak;
      peak = Number.NaN;
      return value;
    },
    stop: () => clearInterval(timer),
  };
}

const controlAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });

interface Sent {
  email: number;
  sms: number;
}

interface ServerCounters {
  /** Queued + in-flight outbox rows. */
  depth: number;
  /** Messages handed to a transport since the server started (the development outboxes here). */
  sent: Sent;
  /** Codes not texted because the daily SMS budget was reached. */
  smsBudgetExhausted: number;
}

/** The outbox depth and the delivery counters, from the app's own /metrics. */
async function readMetrics(managementPort: number): Promise<ServerCounters> {
  const reply = await send(controlAgent, managementPort, { method: 'GET', path: '/metrics' }, true);
  const depth = /^latchkey_outbox_depth (\d+)/m.exec(reply.body);
  if (reply.status !== 200 || !depth) throw new Error(`/metrics answered ${reply.status} without latchkey_outbox_depth`);
  // A labelled counter nothing has counted yet has no line at all.
  const counter = (pattern: RegExp) => Number(pattern.exec(reply.body)?.[1] ?? 0);
  return {
    depth: Number(depth[1]),
    sent: {
      email: counter(/^latchkey_messages_sent_total\{channel="email"\} (\d+)/m),
      sms: counter(/^latchkey_messages_sent_total\{channel="sms"\} (\d+)/m),
    },
    smsBudgetExhausted: counter(/^latchkey_sms_budget_exhausted_total (\d+)/m),
  };
}

interface Drain {
  backlog: number;
  drainMs: number;
}

/**
 * Waits until the worker has drained the outbox; returns how long that took (ms), the depth it started
 * from, and the counters once drained.
 */
async function drainOutbox(port: number): Promise<Drain & { counters: ServerCounters }> {
  const start = performance.now();
  let counters = await readMetrics(port);
  const backlog = counters.depth;
  while (counters.depth > 0) {
    if (performance.now() - start > DRAIN_TIMEOUT_MS) throw new Error(`outbox still holds ${counters.depth} messages after ${DRAIN_TIMEOUT_MS} ms`);
    await sleep(50);
    counters = await readMetrics(port);
  }
  const drainMs = Math.round(performance.now() - start);
  // The worker counts a message sent just after its row says so: read the counters again once they settle.
  await sleep(100);
  counters = await readMetrics(port);
  return { backlog, drainMs, counters };
}

/** A process's user + system CPU time so far, in ms (Linux: /proc, 100 ticks a second); NaN elsewhere. */
function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

interface Started {
  child: ChildProcess;
  readyMs: number;
  /** CPU time (user + system) the child had used when it first answered ready: its start-up work. */
  readyCpuMs: number;
  /** The child's last output (stdout and stderr), for error messages. */
  output(): string;
}

/** Spawns a server with an IPC channel (it stops itself when the bench goes) and times spawn → `readyPath` 200. */
async function startServerChild(label: string, nodeArgs: string[], env: NodeJS.ProcessEnv, port: number, readyPath: string, readyTimeoutMs = READY_TIMEOUT_MS): Promise<Started> {
  const started = performance.now();
  const child = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  children.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const agent = new http.Agent({ keepAlive: false });
  try {
    while (performance.now() - started < readyTimeoutMs) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${label} exited early (${child.exitCode ?? child.signalCode}):\n${output.trim()}`);
      try {
        const reply = await send(agent, port, { method: 'GET', path: readyPath });
        if (reply.status === 200) return { child, readyMs: performance.now() - started, readyCpuMs: cpuMsOf(child.pid), output: () => output };
      } catch {
        /* not listening yet */
      }
      await sleep(5);
    }
  } finally {
    agent.destroy();
  }
  throw new Error(`${label} not ready after ${readyTimeoutMs} ms:\n${output.trim()}`);
}

// ---------------------------------------------------------------------------
// Database steps done by the bench itself

/**
 * Fresh reset tokens for the seeded accounts, minted straight into Latchkey's recovery_tokens the way
 * src/flows/tokens.ts issues them (only the sha256 is stored; purpose email_link, 60 minutes), one per
 * account: a completion revokes the account's other tokens (SPEC §7 rule 5). Returns the secrets.
 */
async function mintResetTokens(databaseUrl: string): Promise<{ tokens: string[]; restorePasswords: () => Promise<void> }> {
  const logins = Array.from({ length: ACCOUNT_COUNT }, (_, i) => existingLogin(i));
  const tokens = logins.map(() => crypto.randomBytes(32).toString('base64url'));
  const hashes = tokens.map((token) => crypto.createHash('sha256').update(token, 'utf8').digest('hex'));
  const now = new Date();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      `INSERT INTO recovery_tokens (token_hash, account_id, purpose, created_at, expires_at)
       SELECT t.hash, a.id, 'email_link', $3, $4 FROM unnest($1::text[], $2::text[]) AS t(login, hash) JOIN accounts a ON a.login = t.login`,
      [logins, hashes, now.toISOString(), new Date(now.getTime() + 60 * 60_000).toISOString()],
    );
    if (rowCount !== ACCOUNT_COUNT) throw new Error(`minted ${rowCount} reset tokens for ${ACCOUNT_COUNT} accounts`);
    const seeded = await client.query<{ password_hash: string }>('SELECT password_hash FROM accounts WHERE login = $1', [logins[0]]);
    const hash = seeded.rows[0]?.password_hash;
    if (hash === undefined) throw new Error('the seeded accounts have no password hash');
    // A completion must choose a password other than the current one (issue 14 item 7), so it sets
    // COMPLETION_PASSWORD; afterwards every account gets BENCH_PASSWORD back for the phases that sign in.
    const restorePasswords = async () => {
      const again = new pg.Client({ connectionString: databaseUrl });
      await again.connect();
      try {
        await again.query('UPDATE accounts SET password_hash = $1 WHERE login = ANY($2::text[])', [hash, logins]);
      } finally {
        await again.end();
      }
    };
    return { tokens, restorePasswords };
  } finally {
    await client.end();
  }
}

/**
 * Latchkey's accounts table up to BULK_TOTAL rows in one INSERT … SELECT generate_series: every bulk row
 * is a copy of a seeded account (same password hash, verified e-mail, status, locale) with its own id,
 * login and e-mail (and no phone, which is unique); then VACUUM (ANALYZE) and a CHECKPOINT, as after
 * any large load.
 */
async function bulkLoadAccounts(databaseUrl: string): Promise<{ rows: number; ms: number }> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const columns = (await client.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'accounts' ORDER BY ordinal_position`)).rows.map((row) => row.column_name);
    const login = `'bulk' || lpad(g::text, 7, '0')`;
    const own: Record<string, string> = {
      id: `'bulk-' || g`,
      login,
      login_key: login,
      email: `${login} || '@example.org'`,
      email_key: `${login} || '@example.org'`,
      phone: 'NULL',
      phone_verified_at: 'NULL',
    };
    const select = columns.map((column) => own[column] ?? `t.${client.escapeIdentifier(column)}`).join(', ');
    const rows = BULK_TOTAL - ACCOUNT_COUNT;
    if (bulkLogin(1) !== 'bulk0000001') throw new Error('bulkLogin() and the SQL above disagree');
    await client.query(
      `INSERT INTO accounts (${columns.map((column) => client.escapeIdentifier(column)).join(', ')})
       SELECT ${select} FROM generate_series(1, $1::int) AS g CROSS JOIN (SELECT * FROM accounts WHERE login = $2) AS t`,
      [rows, existingLogin(0)],
    );
    // What an operator does after a bulk load: statistics, the visibility map (else autovacuum does it
    // during the measurement), and the dirty pages written out.
    await client.query('VACUUM (ANALYZE) accounts');
    await client.query('CHECKPOINT');
    return { rows, ms: Math.round(performance.now() - started) };
  } finally {
    await client.end();
  }
}

/** VACUUM (ANALYZE) of the tables reset requests, codes and their messages write to. */
async function vacuumHotTables(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE) outbox, recovery_tokens, phone_flows');
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------
// Workloads

type Kind = 'existing' | 'unknown';

function recoveryRequest(kind: Kind | 'mixed') {
  return (i: number): RequestSpec => {
    const existing = kind === 'existing' || (kind === 'mixed' && i % 2 === 0);
    const n = kind === 'mixed' ? Math.floor(i / 2) : i;
    // Half by login name, half by e-mail, the same mix for both kinds.
    const byEmail = n % 2 === 1;
    const login = existing ? (byEmail ? existingEmail(n) : existingLogin(n)) : byEmail ? unknownEmail(n) : unknownLogin(n);
    return { method: 'POST', path: '/api/v1/recovery/email', body: JSON.stringify({ login }) };
  };
}

/**
 * Half existing, half unknown, as `recoveryRequest('mixed')`; at the large scale the existing ones are
 * spread over the whole bulk-loaded population (a multiplicative step, so neighbours are far apart).
 */
function scaleRequest(scale: 'small' | 'large') {
  const small = recoveryRequest('mixed');
  if (scale === 'small') return small;
  const bulk = BULK_TOTAL - ACCOUNT_COUNT;
  return (i: number): RequestSpec => {
    if (i % 2 === 1) return small(i);
    const n = Math.floor(i / 2);
    const login = bulkLogin(((n * 104_729) % bulk) + 1);
    return { method: 'POST', path: '/api/v1/recovery/email', body: JSON.stringify({ login: n % 2 === 1 ? `${login}@example.org` : login }) };
  };
}

/** "8 (916) 100-00-07": how people write a Russian number at home; the app normalizes it to E.164. */
function writtenPhone(e164: string): string {
  return `8 (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8, 10)}-${e164.slice(10)}`;
}

function phoneRequest(kind: Kind | 'mixed') {
  return (i: number): RequestSpec => {
    const known = kind === 'existing' || (kind === 'mixed' && i % 2 === 0);
    const n = kind === 'mixed' ? Math.floor(i / 2) : i;
    const e164 = known ? existingPhone(n) : unknownPhone(n);
    // Half in E.164, half written the national way, the same mix for both kinds. A number gets its next
    // request only ACCOUNT_COUNT requests later (16 in flight), so no two requests race for one number's flow.
    const phone = n % 2 === 1 ? writtenPhone(e164) : e164;
    return { method: 'POST', path: '/api/v1/recovery/phone', body: JSON.stringify({ phone }) };
  };
}

/** Better Auth wants an Origin on sign-in even without a cookie; its requests all carry ours. */
const BETTER_AUTH_HEADERS = { origin: PUBLIC_URL };

function betterAuthResetRequest(kind: Kind | 'mixed') {
  return (i: number): RequestSpec => {
    const existing = kind === 'existing' || (kind === 'mixed' && i % 2 === 0);
    const n = kind === 'mixed' ? Math.floor(i / 2) : i;
    const email = existing ? existingEmail(n) : unknownEmail(n);
    return { method: 'POST', path: '/api/auth/request-password-reset', body: JSON.stringify({ email, redirectTo: `${PUBLIC_URL}/reset-password` }), headers: BETTER_AUTH_HEADERS };
  };
}

function betterAuthSignInRequest(i: number): RequestSpec {
  return { method: 'POST', path: '/api/auth/sign-in/email', body: JSON.stringify({ email: existingEmail(i), password: BENCH_PASSWORD }), headers: BETTER_AUTH_HEADERS };
}

interface RawResult extends Summary {
  concurrency: number;
  cpu?: CpuUse;
}

function merge(label: string, phases: PhaseResult[]): Summary & { label: string; unexpected: number } {
  const latencies = phases.flatMap((phase) => phase.latencies);
  const seconds = phases.reduce((sum, phase) => sum + phase.seconds, 0);
  return { label, ...summarize(latencies, seconds), unexpected: phases.reduce((sum, phase) => sum + phase.unexpected, 0) };
}

function withoutLatencies(phase: PhaseResult): Omit<PhaseResult, 'latencies'> {
  const { latencies: _latencies, ...rest } = phase;
  return rest;
}

// ---------------------------------------------------------------------------
// Report

interface Row {
  figure: string;
  value: string;
  target: string;
  holds: 'yes' | 'no' | '—';
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const holds = (ok: boolean): Row['holds'] => (ok ? 'yes' : 'no');

function printTable(rows: Row[]): void {
  const keys = ['figure', 'value', 'target', 'holds'] as const;
  const widths = keys.map((key) => Math.max(key.length, ...rows.map((row) => row[key].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i === 1 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line([...keys]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(keys.map((key) => row[key])));
}

// ---------------------------------------------------------------------------
// Phases

/** `kind` is the workload's own name for it (existing/unknown logins, known/unknown numbers). */
type RecoveryPhase = Omit<PhaseResult, 'latencies'> & Drain & { kind: string; sent: Sent; cpu?: CpuUse };
type Merged = ReturnType<typeof merge>;

function meanOf(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((sum, value) => sum + value, 0) / finite.length : Number.NaN;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : Number.NaN;
}

interface MeterPids {
  pids: Record<string, number | undefined>;
  trees: Record<string, number | undefined>;
}

const meter = (m: MeterPids) => cpuMeter(m.pids, m.trees);
/** The server under test and its PostgreSQL, in cores. */
const serverCores = (cpu: CpuUse | undefined) => (cpu ? (cpu.ours.server ?? Number.NaN) + (cpu.ours.postgres ?? Number.NaN) : Number.NaN);

interface InterleavedSpec {
  /** 'recovery' (e-mail) or 'phone recovery': labels and log lines. */
  label: string;
  /** What the workload calls each kind. */
  names: Record<Kind, string>;
  request: (kind: Kind | 'mixed') => (i: number) => RequestSpec;
  expectStatus: number;
  /** Latchkey: wait for its outbox worker between phases and count what it delivered. */
  outbox: boolean;
  order: Kind[];
  /**
   * Run after each drain: VACUUM the tables the drained jobs churned through, so PostgreSQL's autovacuum
   * does not pick a later phase to do it in (every phase starts from the same kind of database).
   */
  tidy?: () => Promise<void>;
}

interface InterleavedResult {
  warmup: Omit<PhaseResult, 'latencies'> & Drain & { sent: Sent };
  phases: RecoveryPhase[];
  existing: Merged;
  unknown: Merged;
  ratios: { rate: number; p50: number; p99: number };
  cpu: { server: number; foreign: number };
  /** Outbox rows left at the end of each kind's phases, summed. */
  backlog: Record<Kind, number>;
  /** Answers and messages delivered because of them, per kind, over the measured phases. */
  delivered: Record<Kind, Sent & { requests: number }>;
}

/**
 * Existing vs unknown in alternating phases (RECOVERY_ORDER) after a mixed warm-up. For Latchkey the
 * outbox drains between phases, so each phase carries the worker load its own requests cause (and nothing
 * left over from the other); the delivery counters are read after each drain, so each phase knows what
 * it sent.
 */
async function runInterleaved(spec: InterleavedSpec, context: { port: number; managementPort?: number; signal: AbortSignal; meterPids: MeterPids }): Promise<InterleavedResult> {
  const { port, meterPids } = context;
  const base = { port, concurrency: RECOVERY_CONCURRENCY, expectStatus: spec.expectStatus, signal: context.signal };
  const letter = (kind: Kind) => spec.names[kind][0]?.toUpperCase();
  log(`${spec.label} requests, ${RECOVERY_CONCURRENCY} connections, phases ${spec.order.map(letter).join('')} × ${RECOVERY_PHASE_MS} ms`);
  const noDrain = async (): Promise<Drain & { counters: ServerCounters }> => ({ backlog: 0, drainMs: 0, counters: { depth: 0, sent: { email: 0, sms: 0 }, smsBudgetExhausted: 0 } });
  const drain = spec.outbox
    ? async () => {
        const drained = await drainOutbox(context.managementPort ?? port);
        await spec.tidy?.();
        return drained;
      }
    : noDrain;
  let counters = (await drain()).counters;
  const sentSince = (next: ServerCounters): Sent => {
    const sent = { email: next.sent.email - counters.sent.email, sms: next.sent.sms - counters.sent.sms };
    counters = next;
    return sent;
  };
  const warmupPhase = await runPhase({ ...base, label: `${spec.label} warm-up (mixed)`, durationMs: RECOVERY_WARMUP_MS, request: spec.request('mixed') });
  const { counters: afterWarmup, ...warmupDrain } = await drain();
  const warmup = { ...withoutLatencies(warmupPhase), ...warmupDrain, sent: sentSince(afterWarmup) };
  const phases: RecoveryPhase[] = [];
  const latenciesOf: Record<Kind, PhaseResult[]> = { existing: [], unknown: [] };
  const delivered: Record<Kind, Sent & { requests: number }> = { existing: { requests: 0, email: 0, sms: 0 }, unknown: { requests: 0, email: 0, sms: 0 } };
  const backlog: Record<Kind, number> = { existing: 0, unknown: 0 };
  for (const kind of spec.order) {
    const name = spec.names[kind];
    const cpuOf = meter(meterPids);
    const phase = await runPhase({ ...base, label: `${spec.label} ${name}`, durationMs: RECOVERY_PHASE_MS, request: spec.request(kind) });
    const cpu = cpuOf?.end();
    const { counters: after, ...drained } = await drain();
    const sent = sentSince(after);
    latenciesOf[kind].push(phase);
    phases.push({ ...withoutLatencies(phase), kind: name, ...drained, sent, ...(cpu ? { cpu } : {}) });
    delivered[kind].requests += phase.count;
    delivered[kind].email += sent.email;
    delivered[kind].sms += sent.sms;
    backlog[kind] += drained.backlog;
    log(`  ${name}: ${fmt(phase.rate)} req/s, p50 ${fmt(phase.p50, 2)} ms, p99 ${fmt(phase.p99, 2)} ms, backlog ${drained.backlog}, server+PG ${fmt(serverCores(cpu), 2)} cores, other processes ${fmt(cpu?.foreign ?? Number.NaN, 2)} cores`);
  }
  const existing = merge(spec.names.existing, latenciesOf.existing);
  const unknown = merge(spec.names.unknown, latenciesOf.unknown);
  return {
    warmup,
    phases,
    existing,
    unknown,
    ratios: { rate: existing.rate / unknown.rate, p50: existing.p50 / unknown.p50, p99: existing.p99 / unknown.p99 },
    cpu: { server: meanOf(phases.map((phase) => serverCores(phase.cpu))), foreign: meanOf(phases.map((phase) => phase.cpu?.foreign ?? Number.NaN)) },
    backlog,
    delivered,
  };
}

/** A warm-up and a measured phase of one closed-loop workload, with the CPU use beside the measured one. */
async function warmAndMeasure(
  options: { label: string; port: number; concurrency: number; expectStatus: number; request: (i: number) => RequestSpec; signal: AbortSignal; tag?: (i: number) => string },
  warmupMs: number,
  durationMs: number,
  meterPids: MeterPids,
): Promise<{ warmup: Omit<PhaseResult, 'latencies'>; measured: Omit<PhaseResult, 'latencies'>; cpu?: CpuUse }> {
  const warmup = withoutLatencies(await runPhase({ ...options, label: `${options.label} warm-up`, durationMs: warmupMs }));
  const cpuOf = meter(meterPids);
  const measured = withoutLatencies(await runPhase({ ...options, durationMs }));
  const cpu = cpuOf?.end();
  log(`  ${options.label}: ${fmt(measured.rate)} req/s, p50 ${fmt(measured.p50, 2)} ms, p99 ${fmt(measured.p99, 2)} ms, server+PG ${fmt(serverCores(cpu), 2)} cores, other processes ${fmt(cpu?.foreign ?? Number.NaN, 2)} cores`);
  return { warmup, measured, ...(cpu ? { cpu } : {}) };
}

/**
 * One known and one unknown "send me a code" before the load: both must be 202 with the same fields and
 * the same countdowns (SPEC §7: the answer does not tell whether the number is on an account).
 */
async function phoneAnswers(port: number): Promise<{ known: unknown; unknown: unknown; same: boolean }> {
  const ask = async (phone: string) => {
    const reply = await send(controlAgent, port, { method: 'POST', path: '/api/v1/recovery/phone', body: JSON.stringify({ phone }) }, true);
    if (reply.status !== 202) throw new Error(`POST /api/v1/recovery/phone answered ${reply.status}: ${reply.body.slice(0, 200)}`);
    const { flow, ...rest } = JSON.parse(reply.body) as Record<string, unknown>;
    if (typeof flow !== 'string' || flow.length === 0) throw new Error(`POST /api/v1/recovery/phone answered without a flow: ${reply.body.slice(0, 200)}`);
    return rest;
  };
  // The last numbers of each range: the load reaches them last, long after these flows are closed anyway.
  const known = await ask(existingPhone(ACCOUNT_COUNT - 1));
  const unknown = await ask(unknownPhone(ACCOUNT_COUNT - 1));
  const same = JSON.stringify(Object.keys(known).sort()) === JSON.stringify(Object.keys(unknown).sort()) && Object.entries(known).every(([key, value]) => unknown[key] === value);
  return { known, unknown, same };
}

type Measured = Awaited<ReturnType<typeof warmAndMeasure>>;

interface OidcResult {
  latchkey: { token: Measured; userinfo: Measured };
  raw: { token: Measured; userinfo: Measured; readyMs: number };
  ratios: { token: number; userinfo: number };
}

/**
 * Step 6b: the token endpoint (refresh_token grant) and userinfo on Latchkey's provider, then on a raw
 * oidc-provider with its in-memory adapter (its own process, Latchkey idle meanwhile); the ratios are
 * Latchkey's rates over the raw ones.
 */
async function runOidc(context: { port: number; env: NodeJS.ProcessEnv; signal: AbortSignal; meterPids: MeterPids }): Promise<OidcResult> {
  const { port, env, signal, meterPids } = context;
  const measure = (label: string, onPort: number, request: () => RequestSpec, pids: MeterPids, abort: AbortSignal) =>
    warmAndMeasure({ label, port: onPort, concurrency: OIDC_CONCURRENCY, expectStatus: 200, request, signal: abort }, OIDC_WARMUP_MS, OIDC_MS, pids);
  log(`OpenID Connect: token endpoint (refresh_token grant) and userinfo, ${OIDC_CONCURRENCY} connections, ${OIDC_MS} ms each (+${OIDC_WARMUP_MS} ms warm-up)`);
  const tokens = await latchkeyTokens(port, registerBenchClient(env));
  const latchkey = {
    token: await measure('Latchkey token (refresh_token)', port, refreshRequest(tokens), meterPids, signal),
    userinfo: await measure('Latchkey userinfo', port, userinfoRequest(tokens), meterPids, signal),
  };
  const rawPort = await freeLoopbackPort();
  const raw = await startServerChild('oidc-provider', tsxArgs('oidc-raw.ts'), { ...env, BENCH_PORT: String(rawPort) }, rawPort, '/bench/tokens');
  try {
    const rawDied = new AbortController();
    raw.child.once('exit', () => rawDied.abort());
    const rawTokens = JSON.parse((await send(controlAgent, rawPort, { method: 'GET', path: '/bench/tokens' }, true)).body) as OidcTokens;
    const rawPids: MeterPids = { pids: { server: raw.child.pid, bench: process.pid, latchkey: meterPids.pids.server }, trees: meterPids.trees };
    const token = await measure('raw oidc-provider token (refresh_token)', rawPort, refreshRequest(rawTokens), rawPids, rawDied.signal);
    const fresh = JSON.parse((await send(controlAgent, rawPort, { method: 'GET', path: '/bench/tokens' }, true)).body) as OidcTokens;
    const userinfo = await measure('raw oidc-provider userinfo', rawPort, userinfoRequest(fresh), rawPids, rawDied.signal);
    if (rawDied.signal.aborted) throw new Error(`the raw oidc-provider died during the run:\n${raw.output().trim()}`);
    return {
      latchkey,
      raw: { token, userinfo, readyMs: raw.readyMs },
      ratios: { token: latchkey.token.measured.rate / token.measured.rate, userinfo: latchkey.userinfo.measured.rate / userinfo.measured.rate },
    };
  } finally {
    await stopChild(raw.child);
  }
}

function oidcRows(result: OidcResult): Row[] {
  const none = { target: '—', holds: '—' as const };
  const c = OIDC_CONCURRENCY;
  const latency = (run: Measured) => `${fmt(run.measured.p50, 2)} / ${fmt(run.measured.p99, 2)} ms`;
  return [
    { figure: `Latchkey OIDC token (refresh_token grant): throughput (c=${c})`, value: `${fmt(result.latchkey.token.measured.rate)} req/s`, ...none },
    { figure: 'Latchkey OIDC token: p50 / p99', value: latency(result.latchkey.token), ...none },
    { figure: `raw oidc-provider (memory) token: throughput (c=${c})`, value: `${fmt(result.raw.token.measured.rate)} req/s`, ...none },
    { figure: 'raw oidc-provider (memory) token: p50 / p99', value: latency(result.raw.token), ...none },
    { figure: 'OIDC token throughput Latchkey / raw oidc-provider', value: fmt(result.ratios.token, 3), ...none },
    { figure: `Latchkey OIDC userinfo: throughput (c=${c})`, value: `${fmt(result.latchkey.userinfo.measured.rate)} req/s`, ...none },
    { figure: 'Latchkey OIDC userinfo: p50 / p99', value: latency(result.latchkey.userinfo), ...none },
    { figure: `raw oidc-provider (memory) userinfo: throughput (c=${c})`, value: `${fmt(result.raw.userinfo.measured.rate)} req/s`, ...none },
    { figure: 'raw oidc-provider (memory) userinfo: p50 / p99', value: latency(result.raw.userinfo), ...none },
    { figure: 'OIDC userinfo throughput Latchkey / raw oidc-provider', value: fmt(result.ratios.userinfo, 3), ...none },
  ];
}

const oidcUnexpected = (result: OidcResult) =>
  [result.latchkey.token, result.latchkey.userinfo, result.raw.token, result.raw.userinfo].reduce((sum, run) => sum + run.warmup.unexpected + run.measured.unexpected, 0);

// ---------------------------------------------------------------------------
// The run

function evidenceContext(pg: Postgres): EvidenceContext {
  return { postgres: pg, dataDir, log, startServerChild, stopChild, runJsonChild, drainOutbox };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadBefore = os.loadavg();

  // 1. Better Auth's own install (its lock file pins every package), Latchkey's bundle, PostgreSQL.
  if (ONLY === undefined && !fs.existsSync(path.join(BETTER_AUTH_DIR, 'node_modules', 'better-auth', 'package.json'))) {
    log('installing bench/better-auth (npm ci)');
    runOrThrow('npm', ['ci', '--prefix', BETTER_AUTH_DIR, '--no-audit', '--no-fund'], 'installing Better Auth');
  }
  const betterAuthVersion = ONLY === undefined ? (JSON.parse(fs.readFileSync(path.join(BETTER_AUTH_DIR, 'node_modules', 'better-auth', 'package.json'), 'utf8')) as { version: string }).version : 'not run';
  log('building Latchkey (npm run build)');
  runOrThrow(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.js')], 'npm run build');
  // bin/latchkey.js runs the bundle only while it is newer than src/ and node_modules (see there).
  const bundleTime = fs.statSync(path.join(REPO_ROOT, 'dist', 'latchkey.js')).mtimeMs;
  const installTime = fs.statSync(path.join(REPO_ROOT, 'node_modules', '.package-lock.json'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (installTime >= bundleTime) log('warning: node_modules changed after the build; Latchkey will run from its sources through tsx');
  log('starting PostgreSQL');
  postgres = await startPostgres();
  await postgres.createDatabase('latchkey');
  await postgres.createDatabase('betterauth');
  const latchkeyDb = postgres.url('latchkey');
  const betterAuthDb = postgres.url('betterauth');
  const port = await freeLoopbackPort();
  // /metrics (the outbox depth and delivery counters) is served only on the management listener.
  const managementPort = await freeLoopbackPort();
  const env = childEnv(dataDir, port, latchkeyDb, managementPort);
  const baPort = await freeLoopbackPort();
  const baEnv: NodeJS.ProcessEnv = { ...childEnv(dataDir, baPort, latchkeyDb), BENCH_DATABASE_URL: betterAuthDb, BENCH_PORT: String(baPort), BENCH_PASSWORD };
  const baScript = path.join(BETTER_AUTH_DIR, 'server.mjs');
  if (BENCH_ONLY === 'evidence') {
    const only = await runEvidence(evidenceContext(postgres));
    await cleanup();
    printTable(only.rows);
    fs.writeFileSync(RESULTS_FILE, `${JSON.stringify({ startedAt: startedAt.toISOString(), only: BENCH_ONLY, table: only.rows, details: only.details }, null, 2)}\n`);
    return;
  }

  // 2. Seeds.
  log(`seeding ${ACCOUNT_COUNT} accounts into Latchkey and into Better Auth (${postgres.version})`);
  const seed = await runJsonChild<{ accounts: number; ms: number }>(tsxArgs('seed.ts'), env, 120_000);
  const baSeed = ONLY === undefined ? await runJsonChild<{ users: number; ms: number }>([baScript, 'seed', String(ACCOUNT_COUNT)], baEnv, 120_000) : undefined;

  // The evidence phases (step 9) get a copy of the seeded database now, while nothing is connected to it.
  if (BENCH_ONLY === '') await postgres.createDatabase('evidence', 'latchkey');

  const quietBefore = await waitForQuiet();
  if (quietBefore.foreign >= QUIET_FOREIGN_CORES * 2) log(`the machine is busy (${fmt(quietBefore.foreign, 2)} cores used by other processes); measuring anyway`);

  // 3. Latchkey's start-up, READY_RUNS times; the last one stays up.
  const serverArgs = [path.join(BENCH_DIR, 'server.js')];
  const readyRuns: number[] = [];
  const readyCpuRuns: number[] = [];
  let latchkey: Started | undefined;
  const readyRunCount = ONLY === undefined ? READY_RUNS : 1;
  for (let run = 1; run <= readyRunCount; run += 1) {
    latchkey = await startServerChild('latchkey', serverArgs, env, port, '/readyz');
    readyRuns.push(latchkey.readyMs);
    readyCpuRuns.push(latchkey.readyCpuMs);
    if (run < readyRunCount) await stopChild(latchkey.child);
  }
  if (!latchkey) throw new Error('latchkey did not start');
  const readyMs = median(readyRuns);
  const readyCpuMs = median(readyCpuRuns);
  log(`latchkey on ${HOST}:${port}: spawn → /readyz ${readyRuns.map((ms) => fmt(ms, 0)).join(', ')} ms, using ${readyCpuRuns.map((ms) => fmt(ms, 0)).join(', ')} ms of CPU`);
  const server = latchkey.child;
  const pid = server.pid;
  const died = new AbortController();
  server.once('exit', () => died.abort());
  const meterPids: MeterPids = { pids: { server: pid, bench: process.pid }, trees: { postgres: postgres.pid() } };
  await sleep(500);
  const rssIdle = rssMiB(pid);
  if (ONLY === 'oidc') {
    const oidcOnly = await runOidc({ port, env, signal: died.signal, meterPids });
    if (died.signal.aborted) throw new Error(`latchkey died during the run:\n${latchkey.output().trim()}`);
    controlAgent.destroy();
    await stopChild(server);
    await cleanup();
    const rows = [...oidcRows(oidcOnly), { figure: 'unexpected answers / errors', value: String(oidcUnexpected(oidcOnly)), target: '0', holds: holds(oidcUnexpected(oidcOnly) === 0) }];
    console.log('');
    console.log(`Latchkey OpenID Connect (BENCH_ONLY=oidc) — ${os.cpus().length} CPU, Node ${process.version}, ${postgres.version}`);
    printTable(rows);
    console.log(`(finished in ${fmt((performance.now() - t0) / 1000)} s; bench/results.json left as it was)`);
    return;
  }
  const rss = rssSampler(pid);

  // 4. Reset completion with fresh tokens, before anything else issues (and so revokes) tokens.
  const { tokens, restorePasswords } = await mintResetTokens(latchkeyDb);
  const returningSignIn = signInRequest(await loadDeviceCookies(latchkeyDb, env));
  let nextToken = 0;
  const completionRequest = (): RequestSpec => {
    const token = tokens[nextToken++];
    if (token === undefined) throw new Error(`more than ${tokens.length} completions: mint more tokens`);
    return { method: 'POST', path: '/api/v1/recovery/complete', body: JSON.stringify({ token, password: COMPLETION_PASSWORD }) };
  };
  log(`reset completion with fresh tokens, ${SIGNIN_CONCURRENCY} connections, ${COMPLETION_MS} ms (+${COMPLETION_WARMUP_MS} ms warm-up)`);
  const completion = await warmAndMeasure(
    { label: 'reset completion', port, concurrency: SIGNIN_CONCURRENCY, expectStatus: 200, request: completionRequest, signal: died.signal },
    COMPLETION_WARMUP_MS,
    COMPLETION_MS,
    meterPids,
  );
  const completionDrain = await drainOutbox(managementPort);
  await restorePasswords();
  const rssCompletion = rss.take();

  // 5. Reset requests, e-mail then phone: each warms up on a mix, then alternates existing/unknown.
  const interleaved = { port, managementPort, signal: died.signal, meterPids };
  const tidy = () => vacuumHotTables(latchkeyDb);
  const recovery = await runInterleaved(
    { label: 'recovery', names: { existing: 'existing', unknown: 'unknown' }, request: recoveryRequest, expectStatus: 202, outbox: true, order: RECOVERY_ORDER, tidy },
    interleaved,
  );
  const rssRecovery = rss.take();
  const answers = await phoneAnswers(port);
  if (!answers.same) log(`phone answers differ: known ${JSON.stringify(answers.known)}, unknown ${JSON.stringify(answers.unknown)}`);
  const phone = await runInterleaved(
    { label: 'phone recovery', names: { existing: 'known', unknown: 'unknown' }, request: phoneRequest, expectStatus: 202, outbox: true, order: PHONE_ORDER, tidy },
    interleaved,
  );
  const rssPhone = rss.take();

  // 6. Raw argon2id right before and right after sign-in (servers idle), so both see the same machine.
  const rawArgs = [String(SIGNIN_CONCURRENCY), String(RAW_MS), String(RAW_WARMUP_MS)];
  log(`raw argon2id verify, ${SIGNIN_CONCURRENCY} in flight, ${RAW_MS} ms (own process, servers idle)`);
  const rawBefore = await runJsonChild<RawResult>(tsxArgs('argon2-raw.ts', rawArgs), env, 30_000);

  // Sign-in at twice the threadpool: first alone (throughput against the raw rate), then again with
  // /healthz probed on its own connection (the probe's own requests stay out of the throughput figure).
  log(`sign-in, ${SIGNIN_CONCURRENCY} connections, ${SIGNIN_MS} ms (+${SIGNIN_WARMUP_MS} ms warm-up)`);
  const expectSignIn = { label: 'sign-in', port, concurrency: SIGNIN_CONCURRENCY, expectStatus: 200, request: returningSignIn, signal: died.signal };
  const signIn = await warmAndMeasure(expectSignIn, SIGNIN_WARMUP_MS, SIGNIN_MS, meterPids);
  log(`sign-in again for ${PROBE_MS} ms, GET /healthz every ${HEALTHZ_INTERVAL_MS} ms on its own connection`);
  const probeMeter = meter(meterPids);
  const probe = startProbe(port, { method: 'GET', path: '/healthz' }, HEALTHZ_INTERVAL_MS);
  const signInProbed = withoutLatencies(await runPhase({ ...expectSignIn, label: 'sign-in (with /healthz probe)', durationMs: PROBE_MS }));
  const healthz = await probe.stop();
  const probeCpu = probeMeter?.end();
  const rssSignIn = rss.take();
  log(`  /healthz p50 ${fmt(healthz.p50, 2)} ms, p99 ${fmt(healthz.p99, 2)} ms (${healthz.count} probes); sign-in meanwhile ${fmt(signInProbed.rate)} req/s`);
  if (died.signal.aborted) throw new Error(`latchkey died during the run:\n${latchkey.output().trim()}`);

  log('raw argon2id verify again');
  const rawAfter = await runJsonChild<RawResult>(tsxArgs('argon2-raw.ts', rawArgs), env, 30_000);
  const rawRate = (rawBefore.count + rawAfter.count) / (rawBefore.seconds + rawAfter.seconds);
  const rawForeign = meanOf([rawBefore.cpu?.foreign ?? Number.NaN, rawAfter.cpu?.foreign ?? Number.NaN]);

  const signInSettle = await drainOutbox(managementPort);
  // 6b. OpenID Connect, beside a raw oidc-provider (Latchkey idle meanwhile).
  const oidcRun = await runOidc({ port, env, signal: died.signal, meterPids });
  const rssOidc = rss.take();

  // 7. Better Auth, while Latchkey idles.
  log(`starting Better Auth ${betterAuthVersion} on ${HOST}:${baPort}`);
  const betterAuth = await startServerChild('better-auth', [baScript, 'serve'], baEnv, baPort, '/api/auth/ok');
  const baDied = new AbortController();
  betterAuth.child.once('exit', () => baDied.abort());
  const baMeterPids: MeterPids = { pids: { server: betterAuth.child.pid, bench: process.pid, latchkey: pid }, trees: { postgres: postgres.pid() } };
  const baRss = rssSampler(betterAuth.child.pid);
  await sleep(500);
  const baRssIdle = rssMiB(betterAuth.child.pid);
  const baRecovery = await runInterleaved(
    { label: 'Better Auth reset', names: { existing: 'existing', unknown: 'unknown' }, request: betterAuthResetRequest, expectStatus: 200, outbox: false, order: RECOVERY_ORDER },
    { port: baPort, signal: baDied.signal, meterPids: baMeterPids },
  );
  log(`Better Auth sign-in, ${SIGNIN_CONCURRENCY} connections, ${SIGNIN_MS} ms (+${SIGNIN_WARMUP_MS} ms warm-up)`);
  const baSignIn = await warmAndMeasure(
    { label: 'Better Auth sign-in', port: baPort, concurrency: SIGNIN_CONCURRENCY, expectStatus: 200, request: betterAuthSignInRequest, signal: baDied.signal },
    SIGNIN_WARMUP_MS,
    SIGNIN_MS,
    baMeterPids,
  );
  const baRssPeak = baRss.take();
  baRss.stop();
  if (baDied.signal.aborted) throw new Error(`Better Auth died during the run:\n${betterAuth.output().trim()}`);
  await stopChild(betterAuth.child);

  // 8. Reset requests at 1000 accounts, then at 1 000 000.
  // Even requests are for existing accounts, odd ones for unknown ones (scaleRequest): in one phase both
  // kinds see the very same machine, whatever else it runs.
  const scaleBase = { port, concurrency: RECOVERY_CONCURRENCY, expectStatus: 202, signal: died.signal, tag: (i: number) => (i % 2 === 0 ? 'existing' : 'unknown') };
  log(`reset requests (half existing, half unknown) at ${ACCOUNT_COUNT} accounts, ${RECOVERY_CONCURRENCY} connections, ${SCALE_MS} ms (+${SCALE_WARMUP_MS} ms warm-up)`);
  const scaleSmall = await warmAndMeasure({ ...scaleBase, label: `reset requests at ${ACCOUNT_COUNT} accounts`, request: scaleRequest('small') }, SCALE_WARMUP_MS, SCALE_MS, meterPids);
  const scaleSmallDrain = await drainOutbox(managementPort);
  const rssScaleSmall = rss.take();
  log(`bulk-loading accounts up to ${BULK_TOTAL}`);
  const bulk = await bulkLoadAccounts(latchkeyDb);
  log(`  ${bulk.rows} rows in ${fmt(bulk.ms / 1000)} s (with VACUUM ANALYZE and CHECKPOINT)`);
  await drainOutbox(managementPort);
  const scaleLarge = await warmAndMeasure({ ...scaleBase, label: `reset requests at ${BULK_TOTAL} accounts`, request: scaleRequest('large') }, SCALE_WARMUP_MS, SCALE_MS, meterPids);
  const scaleLargeDrain = await drainOutbox(managementPort);
  const rssScaleLarge = rss.take();
  rss.stop();

  // 9. The evidence phases, on their own database and server (Latchkey above idles).
  // A failure here still leaves the figures above: it becomes a row of its own.
  const evidence = await runEvidence({ ...evidenceContext(postgres), seeded: true }).catch((error: unknown) => {
    log(`evidence phases failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    const row: Row = { figure: 'evidence phases (bench/evidence.ts)', value: 'failed (see the log)', target: 'run', holds: 'no' };
    return { rows: [row], details: { error: String(error) } };
  });

  const { counters: finalCounters, ...settle } = await drainOutbox(managementPort);
  const rssAfter = rssMiB(pid);
  if (died.signal.aborted) throw new Error(`latchkey died during the run:\n${latchkey.output().trim()}`);

  controlAgent.destroy();
  await stopChild(server);
  const serverExit = { code: server.exitCode, signal: server.signalCode };
  await cleanup();

  // Figures.
  const within = (value: number) => Math.abs(value - 1) <= TARGET_RECOVERY_RATIO;
  const band = `${1 - TARGET_RECOVERY_RATIO}–${1 + TARGET_RECOVERY_RATIO}`;
  const none = { target: '—', holds: '—' as const };
  const quiet = (cores: number) => holds(cores < QUIET_FOREIGN_CORES);
  const { existing, unknown, ratios: ratio } = recovery;
  const rssPeak = Math.max(...[rssCompletion, rssRecovery, rssPhone, rssSignIn, rssOidc, rssScaleSmall, rssScaleLarge].filter(Number.isFinite));
  // A completion computes two argon2id (the new hash, and beside it the check that the new password is not
  // the current one, issue 14 item 7): its bound is half the raw rate, so the target is on hashes per second.
  const completionOverRaw = completion.measured.rate / rawRate;
  const completionHashesOverRaw = (COMPLETION_HASHES * completion.measured.rate) / rawRate;
  const signInOverRaw = signIn.measured.rate / rawRate;
  const overBetterAuth = { existing: existing.rate / baRecovery.existing.rate, unknown: unknown.rate / baRecovery.unknown.rate };
  const scaleP99 = scaleLarge.measured.p99 / scaleSmall.measured.p99;
  const alternating = (run: typeof scaleSmall) => {
    const e = run.measured.tags?.existing;
    const u = run.measured.tags?.unknown;
    return { p50: (e?.p50 ?? Number.NaN) / (u?.p50 ?? Number.NaN), p99: (e?.p99 ?? Number.NaN) / (u?.p99 ?? Number.NaN) };
  };
  const alternatingSmall = alternating(scaleSmall);
  const alternatingLarge = alternating(scaleLarge);
  // The same ratios per CPU-second of the server and PostgreSQL (the raw rate per CPU-second of its own
  // process): on a machine shared with other work, each side's share of the CPU moves with that work; the
  // cost of one operation much less so.
  const rawCpuSeconds = [rawBefore, rawAfter].reduce((sum, raw) => sum + raw.seconds * (raw.cpu?.ours.raw ?? Number.NaN), 0);
  const rawPerCpu = (rawBefore.count + rawAfter.count) / rawCpuSeconds;
  const perCpu = (rate: number, cpu: CpuUse | undefined) => rate / serverCores(cpu);
  const kindCores = (result: InterleavedResult, name: string) => meanOf(result.phases.filter((phase) => phase.kind === name).map((phase) => serverCores(phase.cpu)));
  const perCpuRatios = {
    completionOverRaw: perCpu(completion.measured.rate, completion.cpu) / rawPerCpu,
    signInOverRaw: perCpu(signIn.measured.rate, signIn.cpu) / rawPerCpu,
    betterAuthSignInOverRaw: perCpu(baSignIn.measured.rate, baSignIn.cpu) / rawPerCpu,
    overBetterAuth: {
      existing: existing.rate / kindCores(recovery, 'existing') / (baRecovery.existing.rate / kindCores(baRecovery, 'existing')),
      unknown: unknown.rate / kindCores(recovery, 'unknown') / (baRecovery.unknown.rate / kindCores(baRecovery, 'unknown')),
    },
  };
  const unexpected =
    [recovery.warmup, ...recovery.phases, phone.warmup, ...phone.phases, baRecovery.warmup, ...baRecovery.phases, signInProbed].reduce((sum, phase) => sum + phase.unexpected, 0) +
    [completion, signIn, baSignIn, scaleSmall, scaleLarge].reduce((sum, run) => sum + run.warmup.unexpected + run.measured.unexpected, 0) +
    healthz.unexpected +
    oidcUnexpected(oidcRun);
  // Every known-number answer must have led to exactly one text, and no unknown one to any (else the
  // known phases measured something else, e.g. the daily SMS budget running out).
  const textsPerRequest = { known: phone.delivered.existing.sms / phone.delivered.existing.requests, unknown: phone.delivered.unknown.sms / phone.delivered.unknown.requests };
  const textsHold = phone.delivered.existing.sms === phone.delivered.existing.requests && phone.delivered.existing.requests > 0 && phone.delivered.unknown.sms === 0;
  const latency = (run: { p50: number; p99: number }, digits = 2) => `${fmt(run.p50, digits)} / ${fmt(run.p99, digits)} ms`;
  const c = RECOVERY_CONCURRENCY;
  const rows: Row[] = [
    { figure: 'Latchkey spawn → /readyz 200 (median of 3)', value: `${fmt(readyMs, 0)} ms`, target: `< ${TARGET_READY_MS} ms`, holds: holds(readyMs < TARGET_READY_MS) },
    { figure: 'Latchkey CPU time used by then (median)', value: `${fmt(readyCpuMs, 0)} ms`, ...none },
    { figure: 'Latchkey RSS idle (before load)', value: `${fmt(rssIdle)} MiB`, target: `< ${TARGET_RSS_MIB} MiB`, holds: holds(rssIdle < TARGET_RSS_MIB) },
    { figure: 'Latchkey RSS peak under load (all phases)', value: `${fmt(rssPeak)} MiB`, target: `< ${TARGET_RSS_MIB} MiB`, holds: holds(rssPeak < TARGET_RSS_MIB) },
    { figure: 'Latchkey RSS idle (after load)', value: `${fmt(rssAfter)} MiB`, ...none },
    { figure: `Latchkey reset request existing: throughput (c=${c})`, value: `${fmt(existing.rate)} req/s`, ...none },
    { figure: 'Latchkey reset request existing: p50 / p99', value: latency(existing), ...none },
    { figure: `Latchkey reset request unknown: throughput (c=${c})`, value: `${fmt(unknown.rate)} req/s`, ...none },
    { figure: 'Latchkey reset request unknown: p50 / p99', value: latency(unknown), ...none },
    { figure: 'Latchkey reset existing/unknown: throughput', value: fmt(ratio.rate, 3), target: band, holds: holds(within(ratio.rate)) },
    { figure: 'Latchkey reset existing/unknown: p50', value: fmt(ratio.p50, 3), target: band, holds: holds(within(ratio.p50)) },
    { figure: 'Latchkey reset existing/unknown: p99', value: fmt(ratio.p99, 3), target: band, holds: holds(within(ratio.p99)) },
    { figure: 'same, alternating in one phase (1k accounts): p50', value: fmt(alternatingSmall.p50, 3), target: band, holds: holds(within(alternatingSmall.p50)) },
    { figure: 'same, alternating in one phase (1k accounts): p99', value: fmt(alternatingSmall.p99, 3), target: band, holds: holds(within(alternatingSmall.p99)) },
    { figure: 'same, alternating in one phase (1M accounts): p50 / p99', value: `${fmt(alternatingLarge.p50, 3)} / ${fmt(alternatingLarge.p99, 3)}`, ...none },
    { figure: 'Latchkey reset outbox backlog at phase end: E / U', value: `${recovery.backlog.existing} / ${recovery.backlog.unknown}`, ...none },
    { figure: 'Latchkey+PG CPU during reset requests', value: `${fmt(recovery.cpu.server, 2)} cores`, ...none },
    { figure: `Better Auth reset request existing: throughput (c=${c})`, value: `${fmt(baRecovery.existing.rate)} req/s`, ...none },
    { figure: 'Better Auth reset request existing: p50 / p99', value: latency(baRecovery.existing), ...none },
    { figure: `Better Auth reset request unknown: throughput (c=${c})`, value: `${fmt(baRecovery.unknown.rate)} req/s`, ...none },
    { figure: 'Better Auth reset request unknown: p50 / p99', value: latency(baRecovery.unknown), ...none },
    { figure: 'Better Auth reset existing/unknown: throughput', value: fmt(baRecovery.ratios.rate, 3), ...none },
    { figure: 'Better Auth reset existing/unknown: p50 / p99', value: `${fmt(baRecovery.ratios.p50, 3)} / ${fmt(baRecovery.ratios.p99, 3)}`, ...none },
    { figure: 'Better Auth+PG CPU during reset requests', value: `${fmt(baRecovery.cpu.server, 2)} cores`, ...none },
    { figure: 'reset throughput Latchkey/Better Auth: existing', value: `${fmt(overBetterAuth.existing, 2)}×`, target: `≥ ${TARGET_OVER_BETTER_AUTH}×`, holds: holds(overBetterAuth.existing >= TARGET_OVER_BETTER_AUTH) },
    { figure: 'reset throughput Latchkey/Better Auth: unknown', value: `${fmt(overBetterAuth.unknown, 2)}×`, target: `≥ ${TARGET_OVER_BETTER_AUTH}×`, holds: holds(overBetterAuth.unknown >= TARGET_OVER_BETTER_AUTH) },
    { figure: 'same, per CPU-second of server+PG: existing / unknown', value: `${fmt(perCpuRatios.overBetterAuth.existing, 2)}× / ${fmt(perCpuRatios.overBetterAuth.unknown, 2)}×`, ...none },
    { figure: `Latchkey phone recovery known: throughput (c=${c})`, value: `${fmt(phone.existing.rate)} req/s`, ...none },
    { figure: 'Latchkey phone recovery known: p50 / p99', value: latency(phone.existing), ...none },
    { figure: `Latchkey phone recovery unknown: throughput (c=${c})`, value: `${fmt(phone.unknown.rate)} req/s`, ...none },
    { figure: 'Latchkey phone recovery unknown: p50 / p99', value: latency(phone.unknown), ...none },
    { figure: 'Latchkey phone known/unknown: throughput', value: fmt(phone.ratios.rate, 3), target: band, holds: holds(within(phone.ratios.rate)) },
    { figure: 'Latchkey phone known/unknown: p50', value: fmt(phone.ratios.p50, 3), target: band, holds: holds(within(phone.ratios.p50)) },
    { figure: 'Latchkey phone known/unknown: p99', value: fmt(phone.ratios.p99, 3), target: band, holds: holds(within(phone.ratios.p99)) },
    { figure: 'Latchkey phone texts sent per request: K / U', value: `${fmt(textsPerRequest.known, 3)} / ${fmt(textsPerRequest.unknown, 3)}`, target: '1 / 0', holds: holds(textsHold) },
    { figure: `raw argon2id verify (c=${SIGNIN_CONCURRENCY}, pool ${THREADPOOL})`, value: `${fmt(rawRate)} /s`, ...none },
    { figure: `Latchkey reset completion: throughput (c=${SIGNIN_CONCURRENCY})`, value: `${fmt(completion.measured.rate)} req/s`, ...none },
    { figure: 'Latchkey reset completion: p50 / p99', value: latency(completion.measured, 1), ...none },
    { figure: 'Latchkey reset completion / raw argon2id (requests per hash)', value: fmt(completionOverRaw, 3), ...none },
    { figure: `same, its ${COMPLETION_HASHES} argon2id per completion / raw argon2id`, value: fmt(completionHashesOverRaw, 3), target: `≥ ${TARGET_OVER_RAW}`, holds: holds(completionHashesOverRaw >= TARGET_OVER_RAW) },
    { figure: 'same, per CPU-second (server+PG vs raw process)', value: fmt(perCpuRatios.completionOverRaw, 3), ...none },
    { figure: `Latchkey sign-in, a returning browser: throughput (c=${SIGNIN_CONCURRENCY})`, value: `${fmt(signIn.measured.rate)} req/s`, ...none },
    { figure: 'Latchkey sign-in: p50 / p99', value: latency(signIn.measured, 1), ...none },
    { figure: 'Latchkey sign-in / raw argon2id', value: fmt(signInOverRaw, 3), target: `≥ ${TARGET_OVER_RAW}`, holds: holds(signInOverRaw >= TARGET_OVER_RAW) },
    { figure: 'same, per CPU-second (server+PG vs raw process)', value: fmt(perCpuRatios.signInOverRaw, 3), ...none },
    { figure: 'GET /healthz p99 during Latchkey sign-in', value: `${fmt(healthz.p99, 2)} ms`, target: `< ${TARGET_HEALTHZ_P99_MS} ms`, holds: holds(healthz.p99 < TARGET_HEALTHZ_P99_MS) },
    { figure: `Better Auth sign-in: throughput (c=${SIGNIN_CONCURRENCY})`, value: `${fmt(baSignIn.measured.rate)} req/s`, ...none },
    { figure: 'Better Auth sign-in: p50 / p99', value: latency(baSignIn.measured, 1), ...none },
    { figure: 'Better Auth sign-in / raw argon2id (per CPU-second)', value: `${fmt(baSignIn.measured.rate / rawRate, 3)} (${fmt(perCpuRatios.betterAuthSignInOverRaw, 3)})`, ...none },
    { figure: `Latchkey reset request p99, ${ACCOUNT_COUNT} accounts (c=${c})`, value: `${fmt(scaleSmall.measured.p99, 2)} ms`, ...none },
    { figure: `Latchkey reset request p99, ${BULK_TOTAL} accounts (c=${c})`, value: `${fmt(scaleLarge.measured.p99, 2)} ms`, ...none },
    { figure: 'reset request p99 at 1M / at 1k accounts', value: fmt(scaleP99, 3), target: `< ${TARGET_SCALE_P99}`, holds: holds(scaleP99 < TARGET_SCALE_P99) },
    { figure: 'reset request throughput at 1k / 1M accounts', value: `${fmt(scaleSmall.measured.rate)} / ${fmt(scaleLarge.measured.rate)} req/s`, ...none },
    ...oidcRows(oidcRun),
    { figure: 'unexpected answers / errors', value: String(unexpected), target: '0', holds: holds(unexpected === 0) },
    ...evidence.rows,
    { figure: 'other processes\' CPU: Latchkey reset requests', value: `${fmt(recovery.cpu.foreign, 2)} cores`, target: `< ${QUIET_FOREIGN_CORES}`, holds: quiet(recovery.cpu.foreign) },
    { figure: 'other processes\' CPU: Better Auth reset requests', value: `${fmt(baRecovery.cpu.foreign, 2)} cores`, target: `< ${QUIET_FOREIGN_CORES}`, holds: quiet(baRecovery.cpu.foreign) },
    { figure: 'other processes\' CPU: Latchkey sign-in', value: `${fmt(signIn.cpu?.foreign ?? Number.NaN, 2)} cores`, target: `< ${QUIET_FOREIGN_CORES}`, holds: quiet(signIn.cpu?.foreign ?? Number.NaN) },
    { figure: 'other processes\' CPU: raw argon2id', value: `${fmt(rawForeign, 2)} cores`, target: `< ${QUIET_FOREIGN_CORES}`, holds: quiet(rawForeign) },
  ];
  const elapsedS = (performance.now() - t0) / 1000;
  const loadAfter = os.loadavg();
  const foreignSeen = [recovery.cpu.foreign, phone.cpu.foreign, baRecovery.cpu.foreign, signIn.cpu?.foreign ?? 0, probeCpu?.foreign ?? 0, rawForeign, completion.cpu?.foreign ?? 0, baSignIn.cpu?.foreign ?? 0];
  const shared = foreignSeen.some((cores) => cores >= QUIET_FOREIGN_CORES);

  console.log('');
  console.log(
    `Latchkey vs Better Auth ${betterAuthVersion} — ${os.cpus().length} CPU (${os.cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}, libuv threadpool ${THREADPOOL}, ${postgres.version}, ${ACCOUNT_COUNT} accounts`,
  );
  printTable(rows);
  if (shared) console.log(`note: other processes used the CPU during the run (load average ${loadBefore.map((v) => v.toFixed(1)).join(' ')} → ${loadAfter.map((v) => v.toFixed(1)).join(' ')}); the figures are not from a quiet machine.`);
  console.log(`(finished in ${fmt(elapsedS)} s; details in ${path.relative(process.cwd(), RESULTS_FILE)})`);

  const results = {
    startedAt: startedAt.toISOString(),
    elapsedSeconds: elapsedS,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model.trim(),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      uvThreadpool: THREADPOOL,
      postgres: postgres.version,
      loadAverage: { before: loadBefore, after: loadAfter },
      quietBefore,
      sharedDuringRun: shared,
    },
    settings: {
      accounts: ACCOUNT_COUNT,
      database: 'PostgreSQL, throwaway cluster (fsync off), one database per server, pools of 10',
      latchkey: 'node bin/latchkey.js start (dist/latchkey.js bundle), rate limits off, dev outboxes with the worker running',
      betterAuth: `better-auth ${betterAuthVersion}, email+password, argon2id at Latchkey's parameters, sendResetPassword no-op, rate limit off, logger off`,
      sms: `dev outbox, worker running, daily budget ${BENCH_SMS_DAILY_BUDGET}`,
      recovery: { concurrency: RECOVERY_CONCURRENCY, phaseMs: RECOVERY_PHASE_MS, warmupMs: RECOVERY_WARMUP_MS, order: RECOVERY_ORDER },
      phoneRecovery: {
        order: PHONE_ORDER.map((kind) => (kind === 'existing' ? 'known' : 'unknown')),
        known: `${existingPhone(0)} … ${existingPhone(ACCOUNT_COUNT - 1)} (verified, one per account)`,
        unknown: `${unknownPhone(0)} … ${unknownPhone(ACCOUNT_COUNT - 1)} (on no account)`,
        forms: `half E.164, half written nationally (${writtenPhone(existingPhone(7))})`,
      },
      completion: { concurrency: SIGNIN_CONCURRENCY, durationMs: COMPLETION_MS, warmupMs: COMPLETION_WARMUP_MS, tokens: tokens.length },
      signIn: { concurrency: SIGNIN_CONCURRENCY, durationMs: SIGNIN_MS, warmupMs: SIGNIN_WARMUP_MS },
      raw: { concurrency: SIGNIN_CONCURRENCY, durationMs: RAW_MS, warmupMs: RAW_WARMUP_MS },
      healthzProbe: { intervalMs: HEALTHZ_INTERVAL_MS, durationMs: PROBE_MS, beside: `sign-in at ${SIGNIN_CONCURRENCY} connections` },
      scale: { concurrency: RECOVERY_CONCURRENCY, durationMs: SCALE_MS, warmupMs: SCALE_WARMUP_MS, small: ACCOUNT_COUNT, large: BULK_TOTAL, mix: 'half existing, half unknown' },
    },
    table: rows,
    details: {
      seed,
      betterAuthSeed: baSeed,
      readyMs: { runs: readyRuns, median: readyMs, cpuMs: readyCpuRuns, cpuMedian: readyCpuMs },
      memoryMiB: {
        idle: rssIdle,
        peakCompletion: rssCompletion,
        peakRecovery: rssRecovery,
        peakPhoneRecovery: rssPhone,
        peakSignIn: rssSignIn,
        peakScaleSmall: rssScaleSmall,
        peakScaleLarge: rssScaleLarge,
        idleAfter: rssAfter,
        betterAuth: { idle: baRssIdle, peak: baRssPeak, readyMs: betterAuth.readyMs },
      },
      completion: { ...completion, outbox: completionDrain },
      recovery: { warmup: recovery.warmup, phases: recovery.phases, existing, unknown, ratios: ratio, cpu: recovery.cpu, delivered: recovery.delivered },
      phoneRecovery: {
        answers,
        warmup: phone.warmup,
        phases: phone.phases,
        known: phone.existing,
        unknown: phone.unknown,
        ratios: phone.ratios,
        cpu: phone.cpu,
        delivered: { known: phone.delivered.existing, unknown: phone.delivered.unknown },
        textsPerRequest,
      },
      signIn: { ...signIn, outboxAfter: signInSettle },
      rawArgon2id: { before: rawBefore, after: rawAfter, rate: rawRate, signInOverRaw, completionOverRaw, completionHashesOverRaw, perCpuSecond: rawPerCpu },
      perCpuRatios,
      oidc: { concurrency: OIDC_CONCURRENCY, warmupMs: OIDC_WARMUP_MS, durationMs: OIDC_MS, ...oidcRun, peakRssMiB: rssOidc },
      healthzDuringSignIn: { healthz, signIn: signInProbed, cpu: probeCpu },
      betterAuth: {
        recovery: { warmup: baRecovery.warmup, phases: baRecovery.phases, existing: baRecovery.existing, unknown: baRecovery.unknown, ratios: baRecovery.ratios, cpu: baRecovery.cpu },
        signIn: baSignIn,
        latchkeyOverBetterAuth: overBetterAuth,
      },
      scale: { small: { ...scaleSmall, outbox: scaleSmallDrain }, bulk, large: { ...scaleLarge, outbox: scaleLargeDrain }, p99Ratio: scaleP99, alternating: { small: alternatingSmall, large: alternatingLarge } },
      evidence: evidence.details,
      serverCounters: finalCounters,
      settle,
      serverExit,
    },
  };
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    await cleanup();
    process.exit(1);
  },
);
