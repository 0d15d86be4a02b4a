/**
 * `npm run bench`: one run on this machine, about 70 s when it is quiet, everything on 127.0.0.1.
 *
 *   1. seed ~1000 accounts with verified e-mails and verified phones into embedded SQLite in a temp
 *      folder (bench/seed.ts);
 *   2. spawn the real server (bench/server.ts, `latchkey start`'s code) and time spawn → /readyz 200;
 *   3. e-mail recovery requests for existing vs unknown logins, alternating phases EUUEEUUE (drift hits both);
 *   3b. phone recovery requests ("send me a code") for known vs unknown numbers, the same way (KUUKKUUK);
 *      texts go to the development outbox, whose worker runs in the server as in production;
 *   4. raw argon2id verify rate with the app's parameters (bench/argon2-raw.ts, its own process,
 *      server idle), sign-in with right passwords at 2× the threadpool, the same again with /healthz
 *      probed beside it, raw argon2id again; the raw rate is the mean of both;
 *   5. stop everything and remove the temp folder.
 * The machine's CPU use by other processes is measured beside each figure (bench/cpu.ts).
 *
 * Prints a table (figure, value, target, holds) and writes the same to bench/results.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  ACCOUNT_COUNT,
  BENCH_DIR,
  BENCH_PASSWORD,
  BENCH_SMS_DAILY_BUDGET,
  REPO_ROOT,
  childEnv,
  existingEmail,
  existingLogin,
  existingPhone,
  unknownEmail,
  unknownLogin,
  unknownPhone,
} from './env.js';
import { HOST, runPhase, send, startProbe, type PhaseResult, type RequestSpec } from './load.js';
import { cpuMeter, type CpuUse } from './cpu.js';
import { summarize, type Summary } from './stats.js';

// ---------------------------------------------------------------------------
// Settings

const THREADPOOL = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const RECOVERY_CONCURRENCY = 16;
const RECOVERY_PHASE_MS = 2000;
const RECOVERY_WARMUP_MS = 1500;
/**
 * ABBA: a linear drift (a growing outbox table, a warming JIT) costs both kinds the same. Phone recovery
 * runs with the same connections, phase length, warm-up and order as e-mail recovery.
 */
const RECOVERY_ORDER: Array<'existing' | 'unknown'> = ['existing', 'unknown', 'unknown', 'existing', 'existing', 'unknown', 'unknown', 'existing'];
const SIGNIN_CONCURRENCY = 2 * THREADPOOL;
const SIGNIN_WARMUP_MS = 1000;
const SIGNIN_MS = 6000;
/** The second sign-in phase, with /healthz probed beside it. */
const PROBE_MS = 5000;
const RAW_MS = 5000;
const RAW_WARMUP_MS = 500;
const HEALTHZ_INTERVAL_MS = 10;
const READY_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 30_000;
/** The whole bench gives up (and still cleans up) after this long. */
const WATCHDOG_MS = 170_000;
const RESULTS_FILE = path.join(BENCH_DIR, 'results.json');

const TARGET_RECOVERY_RATIO = 0.05;
const TARGET_SIGNIN_OVER_RAW = 0.9;
const TARGET_HEALTHZ_P99_MS = 25;
/** Above this much CPU used by processes the bench did not start, the machine was not quiet. */
const QUIET_FOREIGN_CORES = 0.1;
/** Before measuring, wait at most this long for the other processes to quieten down. */
const QUIET_WAIT_MS = 15_000;

// ---------------------------------------------------------------------------
// Processes and cleanup

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'));
const children = new Set<ChildProcess>();
let server: ChildProcess | undefined;
let serverLog = '';
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
  fs.rmSync(dataDir, { recursive: true, force: true });
}

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

/** Runs a bench helper to completion and parses the JSON line it prints. */
async function runJsonChild<T>(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<T> {
  const child = spawn(process.execPath, tsxArgs(script, args), { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  if (code !== 0) throw new Error(`${script} exited with ${code}:\n${stderr.trim()}`);
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as T;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (up to QUIET_WAIT_MS) for a second in which other processes leave the CPU alone; returns what it saw. */
async function waitForQuiet(): Promise<{ waitedMs: number; foreign: number }> {
  const start = performance.now();
  let foreign = Number.NaN;
  do {
    const meter = cpuMeter({ bench: process.pid });
    if (!meter) break;
    await sleep(1000);
    foreign = meter.end().foreign;
    if (foreign < QUIET_FOREIGN_CORES * 2) break;
  } while (performance.now() - start < QUIET_WAIT_MS);
  return { waitedMs: Math.round(performance.now() - start), foreign };
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
async function readMetrics(port: number): Promise<ServerCounters> {
  const reply = await send(controlAgent, port, { method: 'GET', path: '/metrics' }, true);
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
  return { backlog, drainMs: Math.round(performance.now() - start), counters };
}

async function startBenchServer(port: number): Promise<{ child: ChildProcess; readyMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, tsxArgs('server.ts'), { cwd: REPO_ROOT, env: childEnv(dataDir, port), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  children.add(child);
  const keep = (chunk: Buffer) => {
    serverLog = (serverLog + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const agent = new http.Agent({ keepAlive: false });
  try {
    while (performance.now() - started < READY_TIMEOUT_MS) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited early (${child.exitCode ?? child.signalCode}):\n${serverLog.trim()}`);
      try {
        const reply = await send(agent, port, { method: 'GET', path: '/readyz' });
        if (reply.status === 200) return { child, readyMs: performance.now() - started };
      } catch {
        /* not listening yet */
      }
      await sleep(5);
    }
  } finally {
    agent.destroy();
  }
  throw new Error(`server not ready after ${READY_TIMEOUT_MS} ms:\n${serverLog.trim()}`);
}

// ---------------------------------------------------------------------------
// Workloads

function recoveryRequest(kind: 'existing' | 'unknown' | 'mixed') {
  return (i: number): RequestSpec => {
    const existing = kind === 'existing' || (kind === 'mixed' && i % 2 === 0);
    const n = kind === 'mixed' ? Math.floor(i / 2) : i;
    // Half by login name, half by e-mail, the same mix for both kinds.
    const byEmail = n % 2 === 1;
    const login = existing ? (byEmail ? existingEmail(n) : existingLogin(n)) : byEmail ? unknownEmail(n) : unknownLogin(n);
    return { method: 'POST', path: '/api/v1/recovery/email', body: JSON.stringify({ login }) };
  };
}

/** "8 (916) 100-00-07": how people write a Russian number at home; the app normalizes it to E.164. */
function writtenPhone(e164: string): string {
  return `8 (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8, 10)}-${e164.slice(10)}`;
}

function phoneRequest(kind: 'existing' | 'unknown' | 'mixed') {
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

function signInRequest(i: number): RequestSpec {
  return { method: 'POST', path: '/api/v1/session', body: JSON.stringify({ login: existingLogin(i), password: BENCH_PASSWORD }) };
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
// The run

type Kind = 'existing' | 'unknown';
/** `kind` is the workload's own name for it (existing/unknown logins, known/unknown numbers). */
type RecoveryPhase = Omit<PhaseResult, 'latencies'> & Drain & { kind: string; sent: Sent; cpu?: CpuUse };
type Merged = ReturnType<typeof merge>;

function meanOf(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((sum, value) => sum + value, 0) / finite.length : Number.NaN;
}

interface InterleavedSpec {
  /** 'recovery' (e-mail) or 'phone recovery': labels and log lines. */
  label: string;
  /** What the workload calls each kind. */
  names: Record<Kind, string>;
  request: (kind: Kind | 'mixed') => (i: number) => RequestSpec;
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
  /** Answers (202) and messages delivered because of them, per kind, over the measured phases. */
  delivered: Record<Kind, Sent & { requests: number }>;
}

/**
 * Existing vs unknown in alternating phases (RECOVERY_ORDER) after a mixed warm-up. The outbox drains
 * between phases, so each phase carries the worker load its own requests cause (and nothing left over
 * from the other); the delivery counters are read after each drain, so each phase knows what it sent.
 */
async function runInterleaved(
  spec: InterleavedSpec,
  context: { port: number; signal: AbortSignal; meterPids: Record<string, number | undefined> },
): Promise<InterleavedResult> {
  const { port, meterPids } = context;
  const base = { port, concurrency: RECOVERY_CONCURRENCY, expectStatus: 202, signal: context.signal };
  const letter = (kind: Kind) => spec.names[kind][0]?.toUpperCase();
  log(`${spec.label} requests, ${RECOVERY_CONCURRENCY} connections, phases ${RECOVERY_ORDER.map(letter).join('')} × ${RECOVERY_PHASE_MS} ms`);
  let counters = (await drainOutbox(port)).counters;
  const sentSince = (next: ServerCounters): Sent => {
    const sent = { email: next.sent.email - counters.sent.email, sms: next.sent.sms - counters.sent.sms };
    counters = next;
    return sent;
  };
  const warmupPhase = await runPhase({ ...base, label: `${spec.label} warm-up (mixed)`, durationMs: RECOVERY_WARMUP_MS, request: spec.request('mixed') });
  const { counters: afterWarmup, ...warmupDrain } = await drainOutbox(port);
  const warmup = { ...withoutLatencies(warmupPhase), ...warmupDrain, sent: sentSince(afterWarmup) };
  const phases: RecoveryPhase[] = [];
  const latenciesOf: Record<Kind, PhaseResult[]> = { existing: [], unknown: [] };
  const delivered: Record<Kind, Sent & { requests: number }> = { existing: { requests: 0, email: 0, sms: 0 }, unknown: { requests: 0, email: 0, sms: 0 } };
  const backlog: Record<Kind, number> = { existing: 0, unknown: 0 };
  for (const kind of RECOVERY_ORDER) {
    const name = spec.names[kind];
    const meter = cpuMeter(meterPids);
    const phase = await runPhase({ ...base, label: `${spec.label} ${name}`, durationMs: RECOVERY_PHASE_MS, request: spec.request(kind) });
    const cpu = meter?.end();
    const { counters: after, ...drain } = await drainOutbox(port);
    const sent = sentSince(after);
    latenciesOf[kind].push(phase);
    phases.push({ ...withoutLatencies(phase), kind: name, ...drain, sent, ...(cpu ? { cpu } : {}) });
    delivered[kind].requests += phase.count;
    delivered[kind].email += sent.email;
    delivered[kind].sms += sent.sms;
    backlog[kind] += drain.backlog;
    log(`  ${name}: ${fmt(phase.rate)} req/s, p50 ${fmt(phase.p50, 2)} ms, p99 ${fmt(phase.p99, 2)} ms, backlog ${drain.backlog}, other processes ${fmt(cpu?.foreign ?? Number.NaN, 2)} cores`);
  }
  const existing = merge(spec.names.existing, latenciesOf.existing);
  const unknown = merge(spec.names.unknown, latenciesOf.unknown);
  return {
    warmup,
    phases,
    existing,
    unknown,
    ratios: { rate: existing.rate / unknown.rate, p50: existing.p50 / unknown.p50, p99: existing.p99 / unknown.p99 },
    cpu: {
      server: meanOf(phases.map((phase) => phase.cpu?.ours.server ?? Number.NaN)),
      foreign: meanOf(phases.map((phase) => phase.cpu?.foreign ?? Number.NaN)),
    },
    backlog,
    delivered,
  };
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

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  const port = await freePort();
  const env = childEnv(dataDir, port);
  const loadBefore = os.loadavg();

  const quietBefore = await waitForQuiet();
  if (quietBefore.foreign >= QUIET_FOREIGN_CORES * 2) log(`the machine is busy (${fmt(quietBefore.foreign, 2)} cores used by other processes); measuring anyway`);
  log(`seeding ${ACCOUNT_COUNT} accounts into ${dataDir}`);
  const seed = await runJsonChild<{ accounts: number; ms: number }>('seed.ts', [], env, 60_000);

  log(`starting the server on ${HOST}:${port}`);
  const started = await startBenchServer(port);
  server = started.child;
  const pid = server.pid;
  const died = new AbortController();
  server.once('exit', () => died.abort());
  const meterPids = { server: pid, bench: process.pid };
  await sleep(500);
  const rssIdle = rssMiB(pid);
  const rss = rssSampler(pid);

  // E-mail recovery, then phone recovery: each warms up on a mix, then alternates existing/unknown.
  const interleaved = { port, signal: died.signal, meterPids };
  const recovery = await runInterleaved({ label: 'recovery', names: { existing: 'existing', unknown: 'unknown' }, request: recoveryRequest }, interleaved);
  const rssRecovery = rss.take();
  const answers = await phoneAnswers(port);
  if (!answers.same) log(`phone answers differ: known ${JSON.stringify(answers.known)}, unknown ${JSON.stringify(answers.unknown)}`);
  const phone = await runInterleaved({ label: 'phone recovery', names: { existing: 'known', unknown: 'unknown' }, request: phoneRequest }, interleaved);
  const rssPhone = rss.take();
  const { existing, unknown, ratios: ratio, cpu: recoveryCpu } = recovery;

  // Raw argon2id right before and right after sign-in (server idle), so both see the same machine.
  const rawArgs = [String(SIGNIN_CONCURRENCY), String(RAW_MS), String(RAW_WARMUP_MS)];
  log(`raw argon2id verify, ${SIGNIN_CONCURRENCY} in flight, ${RAW_MS} ms (own process, server idle)`);
  const rawBefore = await runJsonChild<RawResult>('argon2-raw.ts', rawArgs, env, 30_000);

  // Sign-in at twice the threadpool: first alone (throughput against the raw rate), then again with
  // /healthz probed on its own connection (the probe's own requests stay out of the throughput figure).
  log(`sign-in, ${SIGNIN_CONCURRENCY} connections, ${SIGNIN_MS} ms (+${SIGNIN_WARMUP_MS} ms warm-up)`);
  const expectSignIn = { port, concurrency: SIGNIN_CONCURRENCY, expectStatus: 200, request: signInRequest, signal: died.signal };
  const signInWarmup = await runPhase({ ...expectSignIn, label: 'sign-in warm-up', durationMs: SIGNIN_WARMUP_MS });
  rss.take();
  const signInMeter = cpuMeter(meterPids);
  const signIn = withoutLatencies(await runPhase({ ...expectSignIn, label: 'sign-in', durationMs: SIGNIN_MS }));
  const signInCpu = signInMeter?.end();
  log(`  sign-in: ${fmt(signIn.rate)} req/s, p50 ${fmt(signIn.p50, 2)} ms, p99 ${fmt(signIn.p99, 2)} ms; other processes ${fmt(signInCpu?.foreign ?? Number.NaN, 2)} cores`);
  log(`sign-in again for ${PROBE_MS} ms, GET /healthz every ${HEALTHZ_INTERVAL_MS} ms on its own connection`);
  const probeMeter = cpuMeter(meterPids);
  const probe = startProbe(port, { method: 'GET', path: '/healthz' }, HEALTHZ_INTERVAL_MS);
  const signInProbed = withoutLatencies(await runPhase({ ...expectSignIn, label: 'sign-in (with /healthz probe)', durationMs: PROBE_MS }));
  const healthz = await probe.stop();
  const probeCpu = probeMeter?.end();
  const rssSignIn = rss.take();
  rss.stop();
  log(`  /healthz p50 ${fmt(healthz.p50, 2)} ms, p99 ${fmt(healthz.p99, 2)} ms (${healthz.count} probes); sign-in meanwhile ${fmt(signInProbed.rate)} req/s`);
  if (died.signal.aborted) throw new Error(`the server died during the run:\n${serverLog.trim()}`);

  log('raw argon2id verify again');
  const rawAfter = await runJsonChild<RawResult>('argon2-raw.ts', rawArgs, env, 30_000);
  const rawRate = (rawBefore.count + rawAfter.count) / (rawBefore.seconds + rawAfter.seconds);
  const rawForeign = meanOf([rawBefore.cpu?.foreign ?? Number.NaN, rawAfter.cpu?.foreign ?? Number.NaN]);

  const { counters: finalCounters, ...settle } = await drainOutbox(port);
  const rssAfter = rssMiB(pid);

  controlAgent.destroy();
  await stopChild(server);
  const serverExit = { code: server.exitCode, signal: server.signalCode };
  await cleanup();

  // Figures.
  const within = (value: number) => Math.abs(value - 1) <= TARGET_RECOVERY_RATIO;
  const signInOverRaw = signIn.rate / rawRate;
  const unexpected = [recovery.warmup, ...recovery.phases, phone.warmup, ...phone.phases, signInWarmup, signIn, signInProbed].reduce((sum, phase) => sum + phase.unexpected, 0) + healthz.unexpected;
  const band = `${1 - TARGET_RECOVERY_RATIO}–${1 + TARGET_RECOVERY_RATIO}`;
  const quiet = (cores: number) => holds(cores < QUIET_FOREIGN_CORES);
  const none = { target: '—', holds: '—' as const };
  // Every known-number answer must have led to exactly one text, and no unknown one to any (else the
  // known phases measured something else, e.g. the daily SMS budget running out).
  const textsPerRequest = { known: phone.delivered.existing.sms / phone.delivered.existing.requests, unknown: phone.delivered.unknown.sms / phone.delivered.unknown.requests };
  const textsHold = phone.delivered.existing.sms === phone.delivered.existing.requests && phone.delivered.existing.requests > 0 && phone.delivered.unknown.sms === 0;
  const rows: Row[] = [
    { figure: 'server spawn → /readyz 200', value: `${fmt(started.readyMs, 0)} ms`, ...none },
    { figure: 'server RSS idle (before load)', value: `${fmt(rssIdle)} MiB`, ...none },
    { figure: 'server RSS peak, recovery load', value: `${fmt(rssRecovery)} MiB`, ...none },
    { figure: 'server RSS peak, phone recovery load', value: `${fmt(rssPhone)} MiB`, ...none },
    { figure: 'server RSS peak, sign-in load', value: `${fmt(rssSignIn)} MiB`, ...none },
    { figure: 'server RSS idle (after load)', value: `${fmt(rssAfter)} MiB`, ...none },
    { figure: `recovery existing: throughput (c=${RECOVERY_CONCURRENCY})`, value: `${fmt(existing.rate)} req/s`, ...none },
    { figure: 'recovery existing: p50 / p99', value: `${fmt(existing.p50, 2)} / ${fmt(existing.p99, 2)} ms`, ...none },
    { figure: `recovery unknown: throughput (c=${RECOVERY_CONCURRENCY})`, value: `${fmt(unknown.rate)} req/s`, ...none },
    { figure: 'recovery unknown: p50 / p99', value: `${fmt(unknown.p50, 2)} / ${fmt(unknown.p99, 2)} ms`, ...none },
    { figure: 'recovery existing/unknown: throughput', value: fmt(ratio.rate, 3), target: band, holds: holds(within(ratio.rate)) },
    { figure: 'recovery existing/unknown: p50', value: fmt(ratio.p50, 3), target: band, holds: holds(within(ratio.p50)) },
    { figure: 'recovery existing/unknown: p99', value: fmt(ratio.p99, 3), target: band, holds: holds(within(ratio.p99)) },
    { figure: 'recovery outbox backlog at phase end: E / U', value: `${recovery.backlog.existing} / ${recovery.backlog.unknown}`, ...none },
    { figure: 'server CPU during recovery', value: `${fmt(recoveryCpu.server, 2)} cores`, ...none },
    { figure: `phone recovery known: throughput (c=${RECOVERY_CONCURRENCY})`, value: `${fmt(phone.existing.rate)} req/s`, ...none },
    { figure: 'phone recovery known: p50 / p99', value: `${fmt(phone.existing.p50, 2)} / ${fmt(phone.existing.p99, 2)} ms`, ...none },
    { figure: `phone recovery unknown: throughput (c=${RECOVERY_CONCURRENCY})`, value: `${fmt(phone.unknown.rate)} req/s`, ...none },
    { figure: 'phone recovery unknown: p50 / p99', value: `${fmt(phone.unknown.p50, 2)} / ${fmt(phone.unknown.p99, 2)} ms`, ...none },
    { figure: 'phone recovery known/unknown: throughput', value: fmt(phone.ratios.rate, 3), target: band, holds: holds(within(phone.ratios.rate)) },
    { figure: 'phone recovery known/unknown: p50', value: fmt(phone.ratios.p50, 3), target: band, holds: holds(within(phone.ratios.p50)) },
    { figure: 'phone recovery known/unknown: p99', value: fmt(phone.ratios.p99, 3), target: band, holds: holds(within(phone.ratios.p99)) },
    { figure: 'phone texts sent per request: K / U', value: `${fmt(textsPerRequest.known, 3)} / ${fmt(textsPerRequest.unknown, 3)}`, target: '1 / 0', holds: holds(textsHold) },
    { figure: 'phone recovery outbox backlog at phase end: K / U', value: `${phone.backlog.existing} / ${phone.backlog.unknown}`, ...none },
    { figure: 'server CPU during phone recovery', value: `${fmt(phone.cpu.server, 2)} cores`, ...none },
    { figure: `sign-in: throughput (c=${SIGNIN_CONCURRENCY})`, value: `${fmt(signIn.rate)} req/s`, ...none },
    { figure: 'sign-in: p50 / p99', value: `${fmt(signIn.p50, 1)} / ${fmt(signIn.p99, 1)} ms`, ...none },
    { figure: `raw argon2id verify (c=${SIGNIN_CONCURRENCY}, pool ${THREADPOOL})`, value: `${fmt(rawRate)} /s`, ...none },
    { figure: 'sign-in / raw argon2id', value: fmt(signInOverRaw, 3), target: `≥ ${TARGET_SIGNIN_OVER_RAW}`, holds: holds(signInOverRaw >= TARGET_SIGNIN_OVER_RAW) },
    { figure: 'server CPU during sign-in', value: `${fmt(signInCpu?.ours.server ?? Number.NaN, 2)} cores`, ...none },
    { figure: 'GET /healthz p99 during sign-in', value: `${fmt(healthz.p99, 2)} ms`, target: `< ${TARGET_HEALTHZ_P99_MS} ms`, holds: holds(healthz.p99 < TARGET_HEALTHZ_P99_MS) },
    { figure: 'unexpected answers / errors', value: String(unexpected), target: '0', holds: holds(unexpected === 0) },
    { figure: 'other processes\' CPU: recovery', value: `${fmt(recoveryCpu.foreign, 2)} cores`, target: `< ${QUIET_FOREIGN_CORES}`, holds: quiet(recoveryCpu.foreign) },
    { figure: 'other processes\' CPU: phone recovery', value: `${fmt(phone.cpu.foreign, 2)} cores`, target: `< ${QUIET_FOREIGN_CORES}`, holds: quiet(phone.cpu.foreign) },
    { figure: 'other processes\' CPU: sign-in', value: `${fmt(signInCpu?.foreign ?? Number.NaN, 2)} cores`, target: `< ${QUIET_FOREIGN_CORES}`, holds: quiet(signInCpu?.foreign ?? Number.NaN) },
    { figure: 'other processes\' CPU: /healthz probe', value: `${fmt(probeCpu?.foreign ?? Number.NaN, 2)} cores`, target: `< ${QUIET_FOREIGN_CORES}`, holds: quiet(probeCpu?.foreign ?? Number.NaN) },
    { figure: 'other processes\' CPU: raw argon2id', value: `${fmt(rawForeign, 2)} cores`, target: `< ${QUIET_FOREIGN_CORES}`, holds: quiet(rawForeign) },
  ];
  const elapsedS = (performance.now() - t0) / 1000;
  const loadAfter = os.loadavg();
  const shared = [recoveryCpu.foreign, phone.cpu.foreign, signInCpu?.foreign ?? 0, probeCpu?.foreign ?? 0, rawForeign].some((cores) => cores >= QUIET_FOREIGN_CORES);

  console.log('');
  console.log(`Latchkey bench — ${os.cpus().length} CPU (${os.cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}, libuv threadpool ${THREADPOOL}, SQLite, ${ACCOUNT_COUNT} accounts`);
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
      loadAverage: { before: loadBefore, after: loadAfter },
      quietBefore,
      sharedDuringRun: shared,
    },
    settings: {
      accounts: ACCOUNT_COUNT,
      database: 'sqlite (temp folder)',
      rateLimits: 'off',
      mail: 'dev outbox, worker running',
      sms: `dev outbox, worker running, daily budget ${BENCH_SMS_DAILY_BUDGET}`,
      recovery: { concurrency: RECOVERY_CONCURRENCY, phaseMs: RECOVERY_PHASE_MS, warmupMs: RECOVERY_WARMUP_MS, order: RECOVERY_ORDER },
      phoneRecovery: {
        concurrency: RECOVERY_CONCURRENCY,
        phaseMs: RECOVERY_PHASE_MS,
        warmupMs: RECOVERY_WARMUP_MS,
        order: RECOVERY_ORDER.map((kind) => (kind === 'existing' ? 'known' : 'unknown')),
        known: `${existingPhone(0)} … ${existingPhone(ACCOUNT_COUNT - 1)} (verified, one per account)`,
        unknown: `${unknownPhone(0)} … ${unknownPhone(ACCOUNT_COUNT - 1)} (on no account)`,
        forms: `half E.164, half written nationally (${writtenPhone(existingPhone(7))})`,
      },
      signIn: { concurrency: SIGNIN_CONCURRENCY, durationMs: SIGNIN_MS, warmupMs: SIGNIN_WARMUP_MS },
      raw: { concurrency: SIGNIN_CONCURRENCY, durationMs: RAW_MS, warmupMs: RAW_WARMUP_MS },
      healthzProbe: { intervalMs: HEALTHZ_INTERVAL_MS, durationMs: PROBE_MS, beside: `sign-in at ${SIGNIN_CONCURRENCY} connections` },
    },
    table: rows,
    details: {
      seed,
      readyMs: started.readyMs,
      memoryMiB: { idle: rssIdle, peakRecovery: rssRecovery, peakPhoneRecovery: rssPhone, peakSignIn: rssSignIn, idleAfter: rssAfter },
      recovery: {
        warmup: recovery.warmup,
        phases: recovery.phases,
        existing,
        unknown,
        ratios: ratio,
        cpu: recoveryCpu,
        delivered: recovery.delivered,
      },
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
      signIn: { warmup: withoutLatencies(signInWarmup), measured: signIn, cpu: signInCpu, outboxAfter: settle },
      rawArgon2id: { before: rawBefore, after: rawAfter, rate: rawRate, signInOverRaw },
      healthzDuringSignIn: { healthz, signIn: signInProbed, cpu: probeCpu },
      serverCounters: finalCounters,
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
