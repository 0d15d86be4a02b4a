// SPEC §7 rule 15, the time dimension: clients that never finish their headers (slowloris), never send the
// body they announced, or say nothing at all. They must not hold the server (others are served meanwhile),
// and each is cut off in bounded time. One dialect: nothing here reaches the database.
//
// How Node 20 bounds them, as measured: Node checks its time-outs every 30 s. A request whose headers never
// end (or never start) is answered 408 request_timeout (a problem, src/http/errors.ts clientErrorHandler)
// once older than requestTimeout (30 s), so at 30-60 s. A request whose headers arrived but whose body
// never does is held to headersTimeout (Node's default 60 s, which Fastify leaves above its requestTimeout),
// so the idle-socket limit (connectionTimeout 60 s) closes it first, without an answer. Both are bounded.
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PASSWORD, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { parseResponse } from './helpers/raw-http.js';

const EACH = 10;
/** The 60 s limits (see above) + slack for a busy machine. */
const BOUND_MS = 80_000;

interface SlowClient {
  kind: string;
  socket: net.Socket;
  data: Buffer;
  closedAt?: number;
  timer?: ReturnType<typeof setInterval>;
}

describe('slow and silent clients', () => {
  let t: TestApp;
  let port: number;
  const clients: SlowClient[] = [];

  before(async () => {
    t = await startTestApp({ dialect: 'sqlite', env: { LATCHKEY_RATE_LIMITS: 'off' } });
    await seedAccount(t.deps, { login: 'ivan', email: 'ivan@example.com' });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
  });

  after(async () => {
    for (const c of clients) {
      clearInterval(c.timer);
      c.socket.destroy();
    }
    await t?.close();
  });

  test('they do not hold the server, and each is cut off in bounded time (408 where Node answers)', async (tt) => {
    const started = Date.now();
    const open = (kind: string, onConnect: (c: SlowClient) => void) => {
      const socket = net.connect(port, '127.0.0.1');
      const client: SlowClient = { kind, socket, data: Buffer.alloc(0) };
      socket.on('data', (chunk: Buffer) => (client.data = Buffer.concat([client.data, chunk])));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.closedAt = Date.now();
        clearInterval(client.timer);
      });
      socket.on('connect', () => onConnect(client));
      clients.push(client);
    };
    for (let i = 0; i < EACH; i += 1) {
      // Announces 100 bytes of body, sends 12.
      open('half body', (c) => c.socket.write('POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"login":"iv'));
      // Slowloris: one more header byte every second, the headers never end.
      open('slowloris', (c) => {
        c.socket.write('GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
        c.timer = setInterval(() => c.socket.writable && c.socket.write('a'), 1000);
      });
      // Connects and says nothing.
      open('silent', () => undefined);
    }

    // Meanwhile everyone else is served promptly.
    for (let i = 0; i < 10; i += 1) {
      const t0 = Date.now();
      const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(health.status, 200);
      const signIn = await fetch(`http://127.0.0.1:${port}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'ivan', password: i % 2 ? PASSWORD : 'wrong-password' }),
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(signIn.status, i % 2 ? 200 : 401);
      assert.ok(Date.now() - t0 < 10_000, 'served within seconds');
    }

    // All are cut off in bounded time; those whose headers never ended get 408 request_timeout as a problem.
    const slow = clients;
    const deadline = started + BOUND_MS;
    while (slow.some((c) => c.closedAt === undefined) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    for (const c of slow) {
      assert.ok(c.closedAt !== undefined, `${c.kind}: still open after ${BOUND_MS} ms`);
      if (c.kind === 'half body' && c.data.length === 0) continue; // closed by the idle limit, see above
      const res = parseResponse(c.data);
      assert.ok(res, `${c.kind}: closed without an answer (${c.data.length} bytes)`);
      assert.equal(res.status, 408, `${c.kind}: ${res.status} ${res.body}`);
      assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'request_timeout');
    }
    const seconds = (c: SlowClient) => (((c.closedAt ?? Date.now()) - started) / 1000).toFixed(1);
    tt.diagnostic(`slow clients closed after ${Math.min(...slow.map((c) => Number(seconds(c))))}-${Math.max(...slow.map((c) => Number(seconds(c))))} s`);
    const halfAnswered = clients.filter((c) => c.kind === 'half body' && c.data.length > 0).length;
    tt.diagnostic(`half-body clients answered 408 before the idle close: ${halfAnswered} of ${EACH}`);

    // Still healthy.
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(t.logs.filter((line) => line.includes('"request failed"')).map((l) => l.slice(0, 300)), []);
  });
});
