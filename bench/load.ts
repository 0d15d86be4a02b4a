/**
 * A small closed-loop HTTP load generator on node:http with a keep-alive agent: `concurrency` virtual
 * clients, each sending its next request as soon as the previous answer has been read, until the
 * deadline. Only ever talks to 127.0.0.1.
 */
import http from 'node:http';
import { summarize, type Summary } from './stats.js';

export const HOST = '127.0.0.1';

export interface Reply {
  status: number;
  ms: number;
  body: string;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  /** JSON text, sent with content-type application/json unless `headers` name another type. */
  body?: string;
  /** More request headers (e.g. an `Origin` for servers that require one). */
  headers?: http.OutgoingHttpHeaders;
}

/** One request over `agent`; resolves when the whole answer has been read (errors reject). */
export function send(agent: http.Agent, port: number, spec: RequestSpec, keepBody = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', ...spec.headers };
    if (spec.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = Buffer.byteLength(spec.body);
    }
    const t0 = performance.now();
    const request = http.request({ host: HOST, port, method: spec.method, path: spec.path, agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => {
        if (keepBody) chunks.push(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, ms: performance.now() - t0, body: keepBody ? Buffer.concat(chunks).toString('utf8') : '' }));
      response.on('error', reject);
    });
    request.setTimeout(30_000, () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(spec.body);
  });
}

export interface PhaseOptions {
  label: string;
  port: number;
  concurrency: number;
  durationMs: number;
  /** The i-th request of the phase (i counts across all clients). */
  request: (i: number) => RequestSpec;
  expectStatus: number;
  /** Stops the phase early (the server died). */
  signal?: AbortSignal;
  /** Names the i-th request's kind: the result then also summarizes each kind's latencies apart. */
  tag?: (i: number) => string;
}

export interface PhaseResult extends Summary {
  label: string;
  concurrency: number;
  /** Answers with another status, and transport errors; not counted in the latencies. */
  unexpected: number;
  statuses: Record<string, number>;
  firstUnexpected?: string;
  /** Every expected answer's latency (ms), for merging phases; left out of results.json. */
  latencies: number[];
  /** Per tag (PhaseOptions.tag): the same summary over that kind's answers, all sharing the phase's time. */
  tags?: Record<string, Summary>;
}

export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
  const latencies: number[] = [];
  const tagged: Record<string, number[]> = {};
  const statuses: Record<string, number> = {};
  let unexpected = 0;
  let firstUnexpected: string | undefined;
  let next = 0;
  const start = performance.now();
  const deadline = start + options.durationMs;
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < deadline && !options.signal?.aborted) {
          const i = next++;
          const spec = options.request(i);
          try {
            const reply = await send(agent, options.port, spec, unexpected === 0);
            statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
            if (reply.status === options.expectStatus) {
              latencies.push(reply.ms);
              if (options.tag) (tagged[options.tag(i)] ??= []).push(reply.ms);
            } else {
              unexpected += 1;
              firstUnexpected ??= `${reply.status} ${reply.body.slice(0, 200)}`;
            }
          } catch (error) {
            unexpected += 1;
            statuses.error = (statuses.error ?? 0) + 1;
            firstUnexpected ??= String(error);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    label: options.label,
    concurrency: options.concurrency,
    ...summarize(latencies, seconds),
    unexpected,
    statuses,
    ...(firstUnexpected ? { firstUnexpected } : {}),
    latencies,
    ...(options.tag ? { tags: Object.fromEntries(Object.entries(tagged).map(([tag, values]) => [tag, summarize(values, seconds)])) } : {}),
  };
}

/**
 * A light probe beside a load phase: one connection, one request every `intervalMs` (sequential, so a
 * slow answer delays the next one rather than piling up). Call the returned `stop` to get the summary.
 */
export function startProbe(port: number, spec: RequestSpec, intervalMs: number): { stop(): Promise<Summary & { unexpected: number }> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let unexpected = 0;
  let running = true;
  const start = performance.now();
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const reply = await send(agent, port, spec);
        if (reply.status === 200) latencies.push(reply.ms);
        else unexpected += 1;
      } catch {
        unexpected += 1;
      }
      const wait = intervalMs - (performance.now() - t0);
      if (wait > 0 && running) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { ...summarize(latencies, (performance.now() - start) / 1000), unexpected };
    },
  };
}
