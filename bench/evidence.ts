/**
 * The evidence phases of `npm run bench` (issue 15 items 1 and 5, issue 11), on their own database in the
 * same PostgreSQL, against one Latchkey process (bench/evidence-server.ts) that sends real letters to a
 * real SMTP server and texts to an SMS gateway stub, both in the bench process:
 *
 *   1. the ceiling: reset requests (existing, unknown) beside `POST /bench/insert` (one INSERT, same process,
 *      same pool) in alternating phases EUBBUE; reset capacity = the reset requests' mean rate;
 *   2. letters under load: reset requests (and a fifth phone requests) closed-loop at full capacity, then
 *      open-loop at half the capacity the server sustains end to end (see `sustainedCapacity`); each
 *      letter's and text's time from its request to its arrival;
 *   3. the second factor: `POST /api/v1/session/second-factor` on its own (challenges made beforehand),
 *      and sign-in + second factor, with the argon2id hashes it costs counted in the app's hasher.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { TOTP, Secret } from 'otpauth';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { freeLoopbackPort } from '../scripts/free-port.js';
import {
  ACCOUNT_COUNT,
  BENCH_DIR,
  BENCH_PASSWORD,
  PUBLIC_URL,
  THREADPOOL,
  TWO_FACTOR_FROM,
  benchTotpSecret,
  childEnv,
  existingEmail,
  existingLogin,
  existingPhone,
  unknownEmail,
  unknownLogin,
  unknownPhone,
} from './env.js';
import { runPhase, send, type PhaseResult, type RequestSpec } from './load.js';
import type { Postgres } from './pg.js';
import { summarize, type Summary } from './stats.js';

const CONCURRENCY = 16;
const SIGNIN_CONCURRENCY = 2 * THREADPOOL;
const WARMUP_MS = 2000;
const CEILING_PHASE_MS = 1500;
const CEILING_ORDER = ['existing', 'unknown', 'bare', 'bare', 'unknown', 'existing'] as const;
const LETTERS_MS = 5000;
/** At full capacity well past the worker's `maxDeferMs` (2 s), so the phase shows whether letters still leave under load. */
const LETTERS_FULL_MS = 8000;
/** How long the bench waits for the last letter of a phase once its requests stopped. */
const LETTERS_TIMEOUT_MS = 150_000;
const SIGNIN_MS = 4000;
const VERIFY_MS = 2000;

const TARGET_OVER_CEILING = 0.5;
const TARGET_LETTER_P99_HALF_MS = 2000;
const TARGET_LETTER_MAX_FULL_MS = 60_000;

export interface Row {
  figure: string;
  value: string;
  target: string;
  holds: 'yes' | 'no' | '—';
}

interface Started {
  child: ChildProcess;
  readyMs: number;
  output(): string;
}

/** What bench/run.ts lends these phases (its process handling, so every child is cleaned up alike). */
export interface EvidenceContext {
  postgres: Postgres;
  dataDir: string;
  log(line: string): void;
  startServerChild(label: string, nodeArgs: string[], env: NodeJS.ProcessEnv, port: number, readyPath: string, readyTimeoutMs?: number): Promise<Started>;
  stopChild(child: ChildProcess): Promise<void>;
  runJsonChild<T>(nodeArgs: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<T>;
  /** Waits until the outbox behind `managementPort` is empty. */
  drainOutbox(managementPort: number): Promise<unknown>;
  /** The database `evidence` was already made as a copy of the seeded one (bench/run.ts); else it is seeded here. */
  seeded?: boolean;
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const holds = (ok: boolean): Row['holds'] => (ok ? 'yes' : 'no');
const none = { target: '—', holds: '—' as const };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Where letters and texts arrive: a real SMTP server and the SMS webhook, timing each arrival.

/** Arrivals per recipient, matched first-in first-out to the requests that asked for them. */
class Arrivals {
  private waiting = new Map<string, number[]>();
  readonly latencies: number[] = [];
  expected = 0;
  unmatched = 0;
  lastArrival = 0;

  expect(recipient: string, sentAt: number): void {
    const queue = this.waiting.get(recipient);
    if (queue) queue.push(sentAt);
    else this.waiting.set(recipient, [sentAt]);
    this.expected += 1;
  }

  /** A request answered otherwise than expected: its message will not come. */
  forget(recipient: string, sentAt: number): void {
    const queue = this.waiting.get(recipient);
    const at = queue?.indexOf(sentAt) ?? -1;
    if (queue && at >= 0) {
      queue.splice(at, 1);
      this.expected -= 1;
    }
  }

  arrived(recipient: string): void {
    const now = performance.now();
    this.lastArrival = now;
    const sentAt = this.waiting.get(recipient)?.shift();
    if (sentAt === undefined) this.unmatched += 1;
    else this.latencies.push(now - sentAt);
  }

  reset(): void {
    this.waiting.clear();
    this.latencies.length = 0;
    this.expected = 0;
    this.unmatched = 0;
  }
}

async function startSmtpSink(arrivals: Arrivals): Promise<{ url: string; stop(): Promise<void> }> {
  const server = new SMTPServer({
    // A stopped server drops its connections at once, as one that went away would (senders keep pooled ones open).
    closeTimeout: 50,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        for (const rcpt of session.envelope.rcptTo) arrivals.arrived(rcpt.address.toLowerCase());
        callback();
      });
    },
  });
  // A sender stopped mid-connection resets it: not a failure of this sink.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function startSmsSink(arrivals: Arrivals): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        const { to } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to: string };
        arrivals.arrived(to);
        response.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
      } catch {
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sms`,
    stop: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}

// ---------------------------------------------------------------------------
// Workloads

const resetRequest = (login: string): RequestSpec => ({ method: 'POST', path: '/api/v1/recovery/email', body: JSON.stringify({ login }) });

function ceilingRequest(kind: (typeof CEILING_ORDER)[number] | 'mixed') {
  return (i: number): RequestSpec => {
    const existing = kind === 'existing' || (kind === 'mixed' && i % 2 === 0);
    const login = existing ? existingLogin(i) : unknownLogin(i);
    // The bare route gets the same body as a reset request.
    return kind === 'bare' ? { method: 'POST', path: '/bench/insert', body: JSON.stringify({ login }) } : resetRequest(login);
  };
}

/**
 * The i-th request under the letters phases: four in ten for existing e-mails (each a letter), four for
 * unknown ones, one for a known number (a text), one for an unknown number. `recipient` names the message
 * it should cause, if any.
 */
function letterRequest(i: number, offset: number): { spec: RequestSpec; email?: string; phone?: string } {
  const slot = i % 10;
  const round = Math.floor(i / 10);
  // Letters go to accounts 0…599 and texts to the numbers of accounts 600…999: an e-mail recovery kills the
  // account's open phone flows (rule 5), so one account must not get both in one phase.
  if (slot < 4) {
    const to = existingEmail((round * 4 + slot + offset) % 600);
    return { spec: resetRequest(to), email: to };
  }
  if (slot < 8) return { spec: resetRequest(unknownEmail(round * 4 + slot)) };
  const phone = slot === 8 ? existingPhone(600 + ((round + offset) % 400)) : unknownPhone(round);
  return { spec: { method: 'POST', path: '/api/v1/recovery/phone', body: JSON.stringify({ phone }) }, ...(slot === 8 ? { phone } : {}) };
}

interface LoadResult {
  requests: number;
  answered: number;
  unexpected: number;
  seconds: number;
  rate: number;
}

/**
 * Sends the letters workload: open-loop at `rate` requests a second (a request leaves on schedule whether
 * or not earlier ones were answered), or closed-loop on CONCURRENCY connections when `rate` is undefined.
 */
async function lettersLoad(port: number, rate: number | undefined, durationMs: number, offset: number, email: Arrivals, sms: Arrivals): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: rate === undefined ? CONCURRENCY : 256 });
  let next = 0;
  let answered = 0;
  let unexpected = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  const one = async () => {
    const i = next++;
    const { spec, email: to, phone } = letterRequest(i, offset);
    const sentAt = performance.now();
    if (to) email.expect(to, sentAt);
    if (phone) sms.expect(phone, sentAt);
    try {
      const reply = await send(agent, port, spec);
      if (reply.status === 202) answered += 1;
      else throw new Error(String(reply.status));
    } catch {
      unexpected += 1;
      if (to) email.forget(to, sentAt);
      if (phone) sms.forget(phone, sentAt);
    }
  };
  const inFlight = new Set<Promise<void>>();
  try {
    if (rate === undefined) {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (performance.now() < deadline) await one();
        }),
      );
    } else {
      // Every tick sends what the schedule says is due by now.
      while (performance.now() < deadline) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate);
        while (next < due) {
          const request = one().finally(() => inFlight.delete(request));
          inFlight.add(request);
        }
        await sleep(2);
      }
      await Promise.all(inFlight);
    }
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - start) / 1000;
  return { requests: next, answered, unexpected, seconds, rate: answered / seconds };
}

/** Waits until every expected message arrived, or nothing arrived for a while with the outbox empty, or the timeout. */
async function awaitArrivals(arrivals: Arrivals[], drained: () => Promise<unknown>): Promise<{ waitedMs: number; complete: boolean }> {
  const start = performance.now();
  const complete = () => arrivals.every((a) => a.latencies.length >= a.expected);
  while (!complete() && performance.now() - start < LETTERS_TIMEOUT_MS) {
    await sleep(50);
    const quietFor = performance.now() - Math.max(...arrivals.map((a) => a.lastArrival), start);
    if (quietFor > 5000) {
      // Nothing for 5 s: if the outbox is empty too, what is missing will not come.
      await drained();
      if (performance.now() - Math.max(...arrivals.map((a) => a.lastArrival), start) > 5000) break;
    }
  }
  return { waitedMs: Math.round(performance.now() - start), complete: complete() };
}

/** Of the letters phases' requests, the share that gets a message (the mix: 4/10 + 1/10 to existing contacts). */
const MESSAGE_SHARE = 0.5;

/**
 * What the server sustains end to end: each recovery request is answered (capacity measured by the ceiling
 * phases) and later resolved and delivered by the worker (its rate measured by the drain after the full
 * phase, when no request competes). A request rate above 1 / (1/answered + 1/delivered) grows the backlog
 * without bound, so no waiting time could hold there; "half capacity" is half of this rate.
 */
function sustainedCapacity(answered: number, full: LettersResult): { delivered: number; sustained: number } {
  const afterLoad = full.email.arrived + full.sms.arrived - full.duringLoad.email - full.duringLoad.sms;
  const delivered = afterLoad / MESSAGE_SHARE / (full.drainMs / 1000);
  return { delivered, sustained: 1 / (1 / answered + 1 / delivered) };
}

interface LettersResult {
  /** From the end of the requests to the last message's arrival. */
  drainMs: number;
  load: LoadResult;
  email: Summary & { expected: number; arrived: number; unmatched: number };
  sms: Summary & { expected: number; arrived: number; unmatched: number };
  duringLoad: { email: number; sms: number };
  waitedMs: number;
  complete: boolean;
}

function arrivalSummary(arrivals: Arrivals, seconds: number) {
  return { ...summarize(arrivals.latencies, seconds), expected: arrivals.expected, arrived: arrivals.latencies.length, unmatched: arrivals.unmatched };
}

// ---------------------------------------------------------------------------
// The second factor

const BENCH_HEADERS = { origin: PUBLIC_URL };

function totpAt(i: number, step: number): string {
  return new TOTP({ secret: Secret.fromBase32(benchTotpSecret(i)), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: step * 30_000 + 1 });
}

const stepNow = () => Math.floor(Date.now() / 30_000);

/**
 * Hands out (account, step) pairs a TOTP answer may use: each step once per account, the next one higher
 * than the last (the app accepts ±1 step around now and each step once, rule 16).
 */
class StepLedger {
  private lastUsed = new Map<number, number>();
  private cursor = 0;
  constructor(private readonly accounts: number[]) {}

  take(): { i: number; step: number } | undefined {
    for (let tries = 0; tries < this.accounts.length; tries += 1) {
      const i = this.accounts[this.cursor++ % this.accounts.length] as number;
      const now = stepNow();
      const last = this.lastUsed.get(i) ?? -Infinity;
      // Never the step before now: it may have left the window by the time the request is answered.
      const step = Math.max(now, last + 1);
      if (step <= now + 1) {
        this.lastUsed.set(i, step);
        return { i, step };
      }
    }
    return undefined;
  }
}

/** Pending challenges written straight into the database (a sign-in would cost one argon2id hash each). */
async function mintChallenges(databaseUrl: string, accounts: number[], perAccount: number): Promise<Map<number, string[]>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const tokens = new Map<number, string[]>();
  const logins: string[] = [];
  const hashes: string[] = [];
  for (const i of accounts) {
    const mine: string[] = [];
    for (let k = 0; k < perAccount; k += 1) {
      const token = crypto.randomBytes(32).toString('base64url');
      mine.push(token);
      logins.push(existingLogin(i));
      hashes.push(crypto.createHash('sha256').update(token, 'utf8').digest('hex'));
    }
    tokens.set(i, mine);
  }
  const now = new Date();
  try {
    const { rowCount } = await client.query(
      `INSERT INTO pending_challenges (id_hash, account_id, first_factor, created_at, expires_at, ip, return_to)
       SELECT t.hash, a.id, 'password', $3, $4, '127.0.0.1', NULL FROM unnest($1::text[], $2::text[]) AS t(login, hash) JOIN accounts a ON a.login = t.login`,
      [logins, hashes, now.toISOString(), new Date(now.getTime() + 9 * 60_000).toISOString()],
    );
    if (rowCount !== hashes.length) throw new Error(`minted ${rowCount} challenges of ${hashes.length}`);
  } finally {
    await client.end();
  }
  return tokens;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** A closed loop over a finite list of requests: stops at the deadline or when `next` has none left. */
async function closedLoop(
  port: number,
  concurrency: number,
  durationMs: number,
  expectStatus: number,
  next: () => RequestSpec | undefined,
): Promise<Summary & { unexpected: number; firstUnexpected?: string; ranOut: boolean }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let unexpected = 0;
  let firstUnexpected: string | undefined;
  let ranOut = false;
  const start = performance.now();
  const deadline = start + durationMs;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const spec = next();
          if (!spec) {
            ranOut = true;
            return;
          }
          const reply = await send(agent, port, spec, true).catch((error: unknown) => ({ status: 0, ms: 0, body: String(error) }));
          if (reply.status === expectStatus) latencies.push(reply.ms);
          else {
            unexpected += 1;
            firstUnexpected ??= `${reply.status} ${reply.body.slice(0, 120)}`;
          }
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { ...summarize(latencies, (performance.now() - start) / 1000), unexpected, ...(firstUnexpected ? { firstUnexpected } : {}), ranOut };
}

/** Sign-in then its second factor, on `concurrency` connections: one person signing in with 2FA per pair. */
async function twoFactorPairs(port: number, ledger: StepLedger, durationMs: number): Promise<Summary & { unexpected: number; firstUnexpected?: string }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: SIGNIN_CONCURRENCY });
  const latencies: number[] = [];
  let unexpected = 0;
  let firstUnexpected: string | undefined;
  const start = performance.now();
  const deadline = start + durationMs;
  try {
    await Promise.all(
      Array.from({ length: SIGNIN_CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          const use = ledger.take();
          if (!use) break;
          const t0 = performance.now();
          const first = await new Promise<{ status: number; cookie: string | undefined }>((resolve, reject) => {
            const body = JSON.stringify({ login: existingLogin(use.i), password: BENCH_PASSWORD });
            const request = http.request(
              { host: '127.0.0.1', port, method: 'POST', path: '/api/v1/session', agent, headers: { ...BENCH_HEADERS, accept: 'application/json', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
              (response) => {
                response.resume();
                const cookie = (response.headers['set-cookie'] ?? []).map((line) => line.split(';')[0] ?? '').find((pair) => pair.startsWith('lk_pending='));
                response.on('end', () => resolve({ status: response.statusCode ?? 0, cookie }));
              },
            );
            request.on('error', reject);
            request.end(body);
          });
          if (first.status !== 202 || !first.cookie) {
            unexpected += 1;
            firstUnexpected ??= `sign-in ${first.status}`;
            continue;
          }
          const reply = await send(agent, port, { method: 'POST', path: '/api/v1/session/second-factor', body: JSON.stringify({ code: totpAt(use.i, use.step) }), headers: { ...BENCH_HEADERS, cookie: first.cookie } }, true);
          if (reply.status === 200) latencies.push(performance.now() - t0);
          else {
            unexpected += 1;
            firstUnexpected ??= `second factor ${reply.status} ${reply.body.slice(0, 120)}`;
          }
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { ...summarize(latencies, (performance.now() - start) / 1000), unexpected, ...(firstUnexpected ? { firstUnexpected } : {}) };
}

// ---------------------------------------------------------------------------
// The run

export async function runEvidence(ctx: EvidenceContext): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const { postgres, log } = ctx;
  const dir = path.join(ctx.dataDir, 'evidence');
  fs.mkdirSync(dir, { recursive: true });
  if (!ctx.seeded) await postgres.createDatabase('evidence');
  const databaseUrl = postgres.url('evidence');
  const email = new Arrivals();
  const sms = new Arrivals();
  const smtp = await startSmtpSink(email);
  const gateway = await startSmsSink(sms);
  const port = await freeLoopbackPort();
  const managementPort = await freeLoopbackPort();
  const env: NodeJS.ProcessEnv = {
    ...childEnv(dir, port, databaseUrl, managementPort),
    LATCHKEY_SMTP_URL: smtp.url,
    LATCHKEY_SMS_PROVIDER: 'webhook',
    LATCHKEY_SMS_WEBHOOK_URL: gateway.url,
    // No development outbox beside real transports (SPEC §7 rule 21).
    LATCHKEY_DEV: '0',
  };
  const tsx = (script: string) => ['--import', 'tsx', path.join(BENCH_DIR, script)];
  let server: Started | undefined;
  try {
    log(`evidence: ${ctx.seeded ? 'a copy of the seeded database' : `seeding ${ACCOUNT_COUNT} accounts into their own database`}, ${ACCOUNT_COUNT - TWO_FACTOR_FROM} of them with a second factor`);
    const seed = ctx.seeded ? { copied: true } : await ctx.runJsonChild<{ accounts: number; ms: number }>(tsx('seed.ts'), env, 120_000);
    const seed2fa = await ctx.runJsonChild<{ accounts: number; ms: number }>(tsx('seed-2fa.ts'), env, 180_000);
    // It loads the sources through tsx (no bundle), which takes a while on a busy machine.
    server = await ctx.startServerChild('evidence', tsx('evidence-server.ts'), env, port, '/readyz', 180_000);
    const died = new AbortController();
    server.child.once('exit', () => died.abort());
    const drain = () => ctx.drainOutbox(managementPort);
    const base = { port, concurrency: CONCURRENCY, expectStatus: 202, signal: died.signal };

    // 1. The ceiling.
    log(`evidence: reset requests beside one bare INSERT, ${CONCURRENCY} connections, ${CEILING_ORDER.map((kind) => kind[0]?.toUpperCase()).join('')} × ${CEILING_PHASE_MS} ms`);
    await runPhase({ ...base, label: 'ceiling warm-up (reset)', durationMs: WARMUP_MS, request: ceilingRequest('mixed') });
    await runPhase({ ...base, label: 'ceiling warm-up (bare)', durationMs: WARMUP_MS / 2, request: ceilingRequest('bare') });
    await drain();
    const ceilingPhases: Record<(typeof CEILING_ORDER)[number], PhaseResult[]> = { existing: [], unknown: [], bare: [] };
    for (const kind of CEILING_ORDER) {
      const phase = await runPhase({ ...base, label: `ceiling ${kind}`, durationMs: CEILING_PHASE_MS, request: ceilingRequest(kind) });
      ceilingPhases[kind].push(phase);
      log(`  ${kind}: ${fmt(phase.rate)} req/s, p50 ${fmt(phase.p50, 2)} ms, p99 ${fmt(phase.p99, 2)} ms`);
      await drain();
    }
    const merged = (phases: PhaseResult[]) => ({ ...summarize(phases.flatMap((p) => p.latencies), phases.reduce((s, p) => s + p.seconds, 0)), unexpected: phases.reduce((s, p) => s + p.unexpected, 0) });
    const ceiling = { existing: merged(ceilingPhases.existing), unknown: merged(ceilingPhases.unknown), bare: merged(ceilingPhases.bare) };
    const capacity = (ceiling.existing.rate + ceiling.unknown.rate) / 2;

    // 2. Letters under load, at half and at full capacity.
    const letters = async (label: string, rate: number | undefined, offset: number, durationMs: number): Promise<LettersResult> => {
      await drain();
      await sleep(300);
      email.reset();
      sms.reset();
      log(`evidence: letters at ${label} (${rate === undefined ? `closed loop, ${CONCURRENCY} connections` : `${fmt(rate)} req/s open loop`}), ${durationMs} ms`);
      const load = await lettersLoad(port, rate, durationMs, offset, email, sms);
      const loadEnded = performance.now();
      // Delivered while the requests still came: a worker starved by them delivers next to nothing here.
      const duringLoad = { email: email.latencies.length, sms: sms.latencies.length };
      const waited = await awaitArrivals([email, sms], drain);
      const drainMs = Math.max(email.lastArrival, sms.lastArrival) - loadEnded;
      const result = { load, email: arrivalSummary(email, load.seconds), sms: arrivalSummary(sms, load.seconds), duringLoad, drainMs, ...waited };
      log(
        `  ${fmt(load.rate)} req/s; letters ${result.email.arrived}/${result.email.expected} p50 ${fmt(result.email.p50, 0)} ms p99 ${fmt(result.email.p99, 0)} ms max ${fmt(result.email.max, 0)} ms; ` +
          `texts ${result.sms.arrived}/${result.sms.expected} p50 ${fmt(result.sms.p50, 0)} ms p99 ${fmt(result.sms.p99, 0)} ms max ${fmt(result.sms.max, 0)} ms`,
      );
      return result;
    };
    const full = await letters('full capacity', undefined, 200, LETTERS_FULL_MS);
    const endToEnd = sustainedCapacity(capacity, full);
    log(`  delivered after the requests: ${fmt(endToEnd.delivered)} recoveries/s; sustained end to end: ${fmt(endToEnd.sustained)} req/s`);
    const half = await letters('half capacity', endToEnd.sustained / 2, 0, LETTERS_MS);

    // 3. The second factor.
    log(`evidence: second factor, plain sign-in and sign-in + second factor, ${SIGNIN_CONCURRENCY} connections`);
    let signInCursor = 0;
    const plainSignIn = () => {
      const i = signInCursor++ % TWO_FACTOR_FROM;
      return { method: 'POST' as const, path: '/api/v1/session', body: JSON.stringify({ login: existingLogin(i), password: BENCH_PASSWORD }), headers: BENCH_HEADERS };
    };
    const signInBase = { port, concurrency: SIGNIN_CONCURRENCY, expectStatus: 200, signal: died.signal, request: plainSignIn };
    await runPhase({ ...signInBase, label: 'sign-in warm-up', durationMs: 1000 });
    const plain = await runPhase({ ...signInBase, label: 'sign-in (no second factor)', durationMs: SIGNIN_MS });
    log(`  plain sign-in: ${fmt(plain.rate)} req/s, p99 ${fmt(plain.p99, 1)} ms`);
    await drain();
    // Accounts from TWO_FACTOR_FROM answer challenges made beforehand; the last 200 sign in with both factors.
    const verifyAccounts = range(TWO_FACTOR_FROM, ACCOUNT_COUNT - 200);
    const pairAccounts = range(ACCOUNT_COUNT - 200, ACCOUNT_COUNT);
    const hashCount = async () => {
      const reply = await send(new http.Agent(), port, { method: 'GET', path: '/bench/hashes' }, true);
      const counts = JSON.parse(reply.body) as { verify: number; verifyDummy: number; hash: number };
      return counts.verify + counts.verifyDummy + counts.hash;
    };
    const hashesBefore = await hashCount();
    const pairs = await twoFactorPairs(port, new StepLedger(pairAccounts), SIGNIN_MS);
    // Every argon2id the app ran during the pairs (nothing else runs then), per person signed in.
    const hashesPerPair = ((await hashCount()) - hashesBefore) / (pairs.count + pairs.unexpected);
    log(`  sign-in + second factor: ${fmt(pairs.rate)} people/s, p99 ${fmt(pairs.p99, 1)} ms (${pairs.unexpected} unexpected${pairs.firstUnexpected ? `: ${pairs.firstUnexpected}` : ''})`);
    await drain();
    // Each account answers twice: a code of the current step, then one of the next (each step once, rule 16;
    // both stay inside the ±1 window for the whole phase). All first answers go before any second one.
    const challenges = await mintChallenges(databaseUrl, verifyAccounts, 2);
    const first = stepNow();
    const answers = [first, first + 1].flatMap((step) => verifyAccounts.map((i) => ({ i, step, token: challenges.get(i)?.pop() ?? '' })));
    const verify = await closedLoop(port, CONCURRENCY, VERIFY_MS, 200, () => {
      const answer = answers.shift();
      return answer && { method: 'POST', path: '/api/v1/session/second-factor', body: JSON.stringify({ code: totpAt(answer.i, answer.step) }), headers: { ...BENCH_HEADERS, cookie: `lk_pending=${answer.token}` } };
    });
    log(`  verify: ${fmt(verify.rate)} req/s, p50 ${fmt(verify.p50, 2)} ms, p99 ${fmt(verify.p99, 2)} ms (${verify.unexpected} unexpected${verify.firstUnexpected ? `: ${verify.firstUnexpected}` : ''})`);
    await drain();
    if (died.signal.aborted) throw new Error(`the evidence server died:\n${server.output().trim()}`);

    const overCeiling = { existing: ceiling.existing.rate / ceiling.bare.rate, unknown: ceiling.unknown.rate / ceiling.bare.rate };
    const twoFactorOverPlain = pairs.rate / plain.rate;
    const latency = (s: { p50: number; p99: number }, digits = 1) => `${fmt(s.p50, digits)} / ${fmt(s.p99, digits)} ms`;
    const arrivedOf = (s: { arrived: number; expected: number }) => `${s.arrived}/${s.expected}`;
    const unexpected = [...ceilingPhases.existing, ...ceilingPhases.unknown, ...ceilingPhases.bare].reduce((s, p) => s + p.unexpected, 0) + half.load.unexpected + full.load.unexpected + plain.unexpected + pairs.unexpected + verify.unexpected;
    const rows: Row[] = [
      { figure: `bare route, one INSERT (same process): throughput (c=${CONCURRENCY})`, value: `${fmt(ceiling.bare.rate)} req/s`, ...none },
      { figure: 'evidence server reset request existing / unknown', value: `${fmt(ceiling.existing.rate)} / ${fmt(ceiling.unknown.rate)} req/s`, ...none },
      { figure: 'reset request / bare INSERT ceiling: existing', value: fmt(overCeiling.existing, 3), target: `≥ ${TARGET_OVER_CEILING}`, holds: holds(overCeiling.existing >= TARGET_OVER_CEILING) },
      { figure: 'reset request / bare INSERT ceiling: unknown', value: fmt(overCeiling.unknown, 3), target: `≥ ${TARGET_OVER_CEILING}`, holds: holds(overCeiling.unknown >= TARGET_OVER_CEILING) },
      { figure: 'recovery capacity: requests answered / delivered by the worker / sustained end to end', value: `${fmt(capacity)} / ${fmt(endToEnd.delivered)} / ${fmt(endToEnd.sustained)} req/s`, ...none },
      { figure: `letters at half capacity (${fmt(half.load.rate)} req/s): request → SMTP p50 / p99`, value: latency(half.email, 0), target: `p99 < ${TARGET_LETTER_P99_HALF_MS} ms`, holds: holds(half.complete && half.email.p99 < TARGET_LETTER_P99_HALF_MS) },
      { figure: 'same: request → SMS gateway p50 / p99 (arrived/expected)', value: `${latency(half.sms, 0)} (${arrivedOf(half.sms)})`, target: `p99 < ${TARGET_LETTER_P99_HALF_MS} ms`, holds: holds(half.complete && half.sms.p99 < TARGET_LETTER_P99_HALF_MS) },
      { figure: `letters at full capacity (${fmt(full.load.rate)} req/s): request → SMTP p50 / p99`, value: `${latency(full.email, 0)} (${arrivedOf(full.email)})`, ...none },
      { figure: 'same: letters + texts delivered while the load lasted', value: `${full.duringLoad.email + full.duringLoad.sms} of ${full.email.expected + full.sms.expected}`, ...none },
      { figure: 'same: longest wait of a letter / a text', value: `${fmt(full.email.max / 1000, 1)} / ${fmt(full.sms.max / 1000, 1)} s`, target: `< ${TARGET_LETTER_MAX_FULL_MS / 1000} s`, holds: holds(full.complete && Math.max(full.email.max, full.sms.max) < TARGET_LETTER_MAX_FULL_MS) },
      { figure: `POST /api/v1/session/second-factor: throughput (c=${CONCURRENCY})`, value: `${fmt(verify.rate)} req/s`, ...none },
      { figure: 'POST /api/v1/session/second-factor: p50 / p99', value: latency(verify, 2), ...none },
      { figure: 'argon2id per sign-in + second factor (the app\'s hasher calls counted)', value: `${fmt(hashesPerPair, 3)} (${pairs.count} people)`, target: '1', holds: holds(pairs.count > 0 && hashesPerPair === 1) },
      { figure: `sign-in + second factor / plain sign-in (c=${SIGNIN_CONCURRENCY})`, value: `${fmt(twoFactorOverPlain, 3)} (${fmt(pairs.rate)} / ${fmt(plain.rate)} /s)`, ...none },
      { figure: 'evidence phases: unexpected answers / errors', value: String(unexpected), target: '0', holds: holds(unexpected === 0) },
    ];
    const strip = (phase: PhaseResult) => {
      const { latencies: _latencies, ...rest } = phase;
      return rest;
    };
    return {
      rows,
      details: {
        seed,
        seedSecondFactor: seed2fa,
        ceiling: { ...ceiling, capacity, endToEnd, overCeiling, phases: Object.fromEntries(Object.entries(ceilingPhases).map(([kind, phases]) => [kind, phases.map(strip)])) },
        letters: { half, full, phaseMs: { half: LETTERS_MS, full: LETTERS_FULL_MS }, mix: '4/10 existing e-mail, 4/10 unknown e-mail, 1/10 known number, 1/10 unknown number' },
        secondFactor: { plain: strip(plain), pairs, verify, twoFactorOverPlain, hashesPerPair },
      },
    };
  } finally {
    if (server) await ctx.stopChild(server.child);
    await smtp.stop();
    await gateway.stop();
  }
}
