/**
 * `node --import tsx bench/profile.ts <workload> [seconds] [concurrency]`: one bench workload against
 * Latchkey on a throwaway PostgreSQL, with the server under `node --cpu-prof`; prints the rate and the
 * CPU split (server, PostgreSQL, other processes) and leaves the profile in bench/profiles/ (gitignored;
 * open it in Chrome's DevTools). Workloads: reset-existing, reset-unknown, completion, sign-in (a browser
 * new to the account), sign-in-returning (with its device cookie, as the bench's sign-in phases), startup.
 * `PROFILE_STATEMENTS=1` also prints PostgreSQL's statements by total time (pg_stat_statements: how many
 * round trips a request costs); `PROFILE_CPU=0` runs the server without the profiler (its overhead skews
 * the rate). A tool for finding why a figure of `npm run bench` misses its target, not part of the bench.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { cpuMeter } from './cpu.js';
import { ACCOUNT_COUNT, BENCH_DIR, COMPLETION_PASSWORD, REPO_ROOT, childEnv, existingEmail, existingLogin, unknownEmail, unknownLogin } from './env.js';
import { HOST, runPhase, send, type RequestSpec } from './load.js';
import { startPostgres } from './pg.js';
import { loadDeviceCookies, signInRequest } from './sign-in.js';

const [workload = 'reset-unknown', secondsArg = '5', concurrencyArg = '16'] = process.argv.slice(2);
const profileDir = path.join(BENCH_DIR, 'profiles');
fs.mkdirSync(profileDir, { recursive: true });
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-profile-'));
const statements = process.env.PROFILE_STATEMENTS === '1';
const postgres = await startPostgres(statements ? '-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all' : '');
process.on('exit', () => {
  postgres.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
await postgres.createDatabase('latchkey');
const url = postgres.url('latchkey');
async function query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
if (statements) await query('CREATE EXTENSION pg_stat_statements');
const port = 40_000 + Math.floor(Math.random() * 20_000);
const env = childEnv(dataDir, port, url);
spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.js')], { stdio: 'inherit' });
const seeded = spawnSync(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'seed.ts')], { cwd: REPO_ROOT, env, encoding: 'utf8' });
if (seeded.status !== 0) throw new Error(seeded.stderr);

const started = performance.now();
const server = spawn(process.execPath, [...(process.env.PROFILE_CPU === '0' ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]), path.join(BENCH_DIR, 'server.js')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const agent = new http.Agent({ keepAlive: false });
for (;;) {
  const ready = await send(agent, port, { method: 'GET', path: '/readyz' }).then((reply) => reply.status === 200, () => false);
  if (ready) break;
  await new Promise((resolve) => setTimeout(resolve, 5));
}
console.log(`ready in ${Math.round(performance.now() - started)} ms`);

let request: (i: number) => RequestSpec = () => ({ method: 'GET', path: '/healthz' });
let expectStatus = 200;
if (workload === 'reset-existing' || workload === 'reset-unknown') {
  const existing = workload === 'reset-existing';
  expectStatus = 202;
  request = (i) => ({ method: 'POST', path: '/api/v1/recovery/email', body: JSON.stringify({ login: existing ? (i % 2 ? existingEmail(i) : existingLogin(i)) : i % 2 ? unknownEmail(i) : unknownLogin(i) }) });
} else if (workload === 'sign-in' || workload === 'sign-in-returning') {
  // A returning browser carries its device cookie (as the bench's sign-in phases); a new one queues a letter.
  request = signInRequest(workload === 'sign-in-returning' ? await loadDeviceCookies(url, env) : undefined);
} else if (workload === 'completion') {
  const tokens = Array.from({ length: ACCOUNT_COUNT }, () => crypto.randomBytes(32).toString('base64url'));
  await query(
    `INSERT INTO recovery_tokens (token_hash, account_id, purpose, created_at, expires_at)
     SELECT t.hash, a.id, 'email_link', $3, $4 FROM unnest($1::text[], $2::text[]) AS t(login, hash) JOIN accounts a ON a.login = t.login`,
    [Array.from({ length: ACCOUNT_COUNT }, (_, i) => existingLogin(i)), tokens.map((token) => crypto.createHash('sha256').update(token).digest('hex')), new Date().toISOString(), new Date(Date.now() + 3_600_000).toISOString()],
  );
  request = (i) => ({ method: 'POST', path: '/api/v1/recovery/complete', body: JSON.stringify({ token: tokens[i], password: COMPLETION_PASSWORD }) });
}

if (workload !== 'startup') {
  const meter = cpuMeter({ server: server.pid, bench: process.pid }, { postgres: postgres.pid() });
  const phase = await runPhase({ label: workload, port, concurrency: Number(concurrencyArg), durationMs: Number(secondsArg) * 1000, request, expectStatus });
  const cpu = meter?.end();
  console.log(`${workload}: ${phase.rate.toFixed(1)} req/s, p50 ${phase.p50.toFixed(2)} ms, p99 ${phase.p99.toFixed(2)} ms, unexpected ${phase.unexpected} ${phase.firstUnexpected ?? ''}`);
  console.log(`cpu (cores): ${JSON.stringify(cpu?.ours)}, other processes ${cpu?.foreign.toFixed(2)}`);
  if (statements) {
    // Seeding and schema statements are in the list too (run once or once per account): read the calls column.
    console.log('calls  total ms  ms/call  statement');
    const rows = await query<{ calls: string; total: string; per: string; text: string }>(
      `SELECT calls, round(total_exec_time::numeric, 1) AS total, round((total_exec_time / calls)::numeric, 3) AS per, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS text
       FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 30`,
    );
    for (const row of rows) console.log(`${row.calls.padStart(5)}  ${row.total.padStart(8)}  ${row.per.padStart(7)}  ${row.text}`);
  }
}
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
console.log(`profile in ${profileDir} (host ${HOST})`);
