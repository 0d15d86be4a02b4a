/**
 * Child process: the raw argon2id verification rate with the app's own parameters, at a fixed number of
 * verifications in flight, on this process's libuv threadpool (same size as the server's: same env).
 * Usage: argon2-raw.ts <concurrency> <durationMs> <warmupMs>. Prints one JSON line.
 */
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_OPTIONS } from '../src/kernel/password-hasher.js';
import { cpuMeter } from './cpu.js';
import { BENCH_PASSWORD } from './env.js';
import { summarize } from './stats.js';

const [concurrency = 8, durationMs = 5000, warmupMs = 500] = process.argv.slice(2).map(Number);
const stored = await hash(BENCH_PASSWORD, ARGON2_OPTIONS);

async function run(ms: number, record: boolean): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const ok = await verify(stored, BENCH_PASSWORD);
        if (!ok) throw new Error('argon2 verify returned false for the right password');
        if (record) latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - start) / 1000 };
}

await run(warmupMs, false);
// This process and the bench that started it are "ours"; whatever else the machine ran meanwhile is not.
const meter = cpuMeter({ raw: process.pid, bench: process.ppid });
const { latencies, seconds } = await run(durationMs, true);
const cpu = meter?.end();
process.stdout.write(`${JSON.stringify({ concurrency, ...summarize(latencies, seconds), cpu })}\n`);
