import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { freeLoopbackPort } from '../../scripts/free-port.js';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import * as oidc from 'openid-client';
import { createClient } from 'redis';
import { loadConfig } from '../../src/config.js';
import { buildDeps } from '../../src/deps.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { addClient } from '../../src/oidc/clients.js';
import { sha256 } from '../../src/kernel/crypto.js';
import { openStore, type Store } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { claimDueMessages, enqueueMessage } from '../../src/store/outbox.repo.js';
import { Browserless, type Hop } from '../support/browserless.js';
import { createTestDatabase } from '../support/pg.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { TestSmtpServer, linkIn } from '../support/smtp.js';
import { waitUntil } from '../support/wait.js';

/**
 * SPEC §8 "Scaling out": two real server processes (`latchkey start`) on one PostgreSQL database and one
 * redis-server, behind no balancer: the test itself spreads requests over both. Whatever one node counts,
 * sends or signs in must hold on the other.
 */

const BIN = path.resolve('bin/latchkey.js');
const SECRET = 'two-nodes-secret-two-nodes-secret-0123456789';
const PUBLIC_URL = 'http://localhost:3000';
const PASSWORD = 'correct-horse-battery-staple';
/** The portal application's redirect URI: never requested, the code is read from the redirect to it. */
const CALLBACK = 'http://127.0.0.1:9/callback';

interface Node {
  name: string;
  port: number;
  /** The management listener (/metrics). */
  managementPort: number;
  child: ChildProcess;
  output: string[];
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/**
 * One HTTP request to a node. `from` picks the loopback source address (127.0.0.0/8 is all ours), so
 * tests can act as different clients without touching the per-IP limits of the others.
 */
function call(node: Node, method: string, urlPath: string, options: { body?: unknown; cookie?: string; from?: string; origin?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {};
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (options.cookie) headers.cookie = options.cookie;
    if (options.origin) headers.origin = options.origin;
    const request = http.request({ host: '127.0.0.1', port: node.port, method, path: urlPath, headers, localAddress: options.from, agent: false, timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = { text };
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${urlPath} on ${node.name}: no answer in 30 s`)));
    request.on('error', reject);
    request.end(payload);
  });
}

async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const port = await freeLoopbackPort();
  const managementPort = await freeLoopbackPort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-${name}-`));
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env, LATCHKEY_PORT: String(port), LATCHKEY_MANAGEMENT_PORT: String(managementPort), LATCHKEY_HOST: '127.0.0.1', LATCHKEY_DATA_DIR: dataDir };
  delete childEnv.NODE_ENV;
  const child = spawn(process.execPath, [BIN, 'start'], { env: childEnv, cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const node: Node = { name, port, managementPort, child, output: [] };
  const keep = (chunk: Buffer) => node.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  return node;
}

async function waitReady(node: Node): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) {
      throw new Error(`node ${node.name} exited (${node.child.exitCode ?? node.child.signalCode}) before it was ready:\n${node.output.join('\n')}`);
    }
    const ready = await call(node, 'GET', '/readyz').then(
      (reply) => reply.status === 200,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`node ${node.name} not ready in 90 s:\n${node.output.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
  node.child.kill('SIGTERM');
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** latchkey_messages_sent_total{channel} of one node. */
async function sentBy(node: Node, channel: 'email' | 'sms'): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${node.managementPort}/metrics`);
  const text = await response.text();
  const match = new RegExp(`^latchkey_messages_sent_total\\{channel="${channel}"\\} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

describe('two nodes on one PostgreSQL and one Redis', { timeout: 170_000 }, () => {
  let redis: TestRedis | undefined;
  let pgDb: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let store: Store | undefined;
  const sms = new TestSmsGateway();
  const smtp = new TestSmtpServer();
  let a: Node;
  let b: Node;
  const nodes: Node[] = [];
  const exits: Array<() => void> = [];
  let appSecret = '';

  before(async () => {
    redis = await startRedis();
    pgDb = await createTestDatabase();
    const smsUrl = await sms.start();
    const smtpUrl = await smtp.start();
    const env = {
      LATCHKEY_DATABASE_URL: pgDb.url,
      LATCHKEY_REDIS_URL: redis.url,
      LATCHKEY_SECRET: SECRET,
      LATCHKEY_PUBLIC_URL: PUBLIC_URL,
      // The test SMTP server offers no STARTTLS, so nodemailer talks plain SMTP on loopback.
      LATCHKEY_SMTP_URL: smtpUrl,
      LATCHKEY_SMS_WEBHOOK_URL: smsUrl,
      LATCHKEY_LOG_LEVEL: 'warn',
    };
    // Both start together on an empty database: both migrate at once, which must be safe too.
    a = await startNode('a', env);
    nodes.push(a);
    b = await startNode('b', env);
    nodes.push(b);
    for (const node of nodes) {
      const kill = () => node.child.kill('SIGKILL');
      process.once('exit', kill);
      exits.push(() => process.removeListener('exit', kill));
    }
    await Promise.all(nodes.map(waitReady));

    // Seed through the store, as `latchkey user add` does (operator-added contacts count as verified).
    const seed = await buildDeps(loadConfig({ LATCHKEY_DATABASE_URL: pgDb.url, LATCHKEY_SECRET: SECRET, LATCHKEY_DATA_DIR: os.tmpdir(), LATCHKEY_RATE_LIMITS: 'off' }), {
      logger: pino({ level: 'silent' }),
    });
    try {
      await addPortal(seed, { slug: 'acme', title: 'Acme' });
      await addUser(seed, { login: 'olga', email: 'olga@example.com', phone: '+79160001122', password: PASSWORD, portals: [{ slug: 'acme', role: 'employee' }] });
      await addUser(seed, { login: 'petr', phone: '+79160003344', portals: [{ slug: 'acme', role: 'employee' }] });
      for (let i = 1; i <= 20; i++) await addUser(seed, { login: `mass${i}`, email: `mass${i}@example.com`, portals: [{ slug: 'acme', role: 'employee' }] });
      appSecret = (await addClient(seed, { clientId: 'acme-app', portalSlug: 'acme', redirectUris: [CALLBACK] }, false)).secret ?? '';
    } finally {
      await seed.close();
    }
    store = openStore(pgDb.url);
  });

  after(async () => {
    await Promise.all(nodes.map(stopNode));
    for (const remove of exits) remove();
    for (const node of nodes) {
      // The Redis-hang test expects one "Redis unreachable" line per node; anything else is worth seeing.
      const errors = node.output.filter((line) => /"level":(50|60)/.test(line) && !line.includes('Redis unreachable'));
      if (errors.length > 0) process.stderr.write(`node ${node.name} logged errors:\n${errors.join('\n')}\n`);
    }
    await store?.close();
    await sms.stop();
    await smtp.stop();
    await pgDb?.drop();
    await redis?.stop();
  });

  it('counts SMS-code guesses for one flow across both nodes: 5 at most, then too_many_attempts even for the right code', async () => {
    const from = '127.0.0.21';
    const started = await call(a, 'POST', '/api/v1/recovery/phone', { body: { phone: '+79160001122' }, from });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const flow = String(started.body.flow);
    await waitUntil(() => sms.lastCode('+79160001122') !== undefined, 20_000);
    const code = sms.lastCode('+79160001122') ?? '';
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');

    // Twelve wrong guesses at once, alternating nodes.
    const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => call(i % 2 ? b : a, 'POST', '/api/v1/recovery/phone/verify', { body: { flow, code: wrong }, from })));
    const codes = guesses.map((g) => `${g.status} ${String(g.body.code)}`).sort();
    assert.equal(codes.filter((c) => c === '400 invalid_code').length, 4, codes.join(', '));
    assert.equal(codes.filter((c) => c === '429 too_many_attempts').length, 8, codes.join(', '));
    for (const node of [a, b]) {
      const right = await call(node, 'POST', '/api/v1/recovery/phone/verify', { body: { flow, code }, from });
      assert.equal(right.status, 429, `the right code on node ${node.name} after 5 wrong ones`);
      assert.equal(right.body.code, 'too_many_attempts');
    }
    const row = await sql<{ attempts: number; verified_at: string | null }>`select attempts, verified_at from phone_flows where id_hash = ${sha256(flow)}`.execute(store!.db);
    assert.equal(Number(row.rows[0]?.attempts), 5, 'exactly five attempts counted');
    assert.equal(row.rows[0]?.verified_at, null);

    // Control: a flow started on one node is verified on the other with its right code.
    const second = await call(b, 'POST', '/api/v1/recovery/phone', { body: { phone: '+79160003344' }, from });
    assert.equal(second.status, 202);
    await waitUntil(() => sms.lastCode('+79160003344') !== undefined, 20_000);
    const verified = await call(a, 'POST', '/api/v1/recovery/phone/verify', { body: { flow: second.body.flow, code: sms.lastCode('+79160003344') }, from });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    assert.equal(typeof verified.body.token, 'string');
  });

  it('holds rate limits across nodes: the per-login recovery cap counts requests to both nodes together', async () => {
    const from = '127.0.0.31';
    const statuses: number[] = [];
    let limited: Reply | undefined;
    // recoveryPerLogin is 5 an hour: per node that would allow 10 in all.
    for (let i = 0; i < 8; i++) {
      const reply = await call(i % 2 ? b : a, 'POST', '/api/v1/recovery/email', { body: { login: 'nobody-in-particular' }, from });
      statuses.push(reply.status);
      if (reply.status === 429) limited = reply;
    }
    assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429, 429, 429]);
    assert.equal(limited?.body.code, 'rate_limited');
    const retryAfter = Number(limited?.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600, `Retry-After: ${String(limited?.headers['retry-after'])}`);
    // The window lives in the shared Redis, under the namespaced key.
    const raw = createClient({ url: redis!.url });
    await raw.connect();
    try {
      const keys = await raw.keys('latchkey:rl:recovery:login:*');
      assert.ok(keys.length >= 1, 'a shared per-login window in Redis');
    } finally {
      await raw.close();
    }
  });

  it('sends each outbox message exactly once while both nodes drain the outbox', async (t) => {
    const before = { a: await sentBy(a, 'email'), b: await sentBy(b, 'email') };
    const isMass = (to: string) => /^mass\d+@example\.com$/.test(to);
    // 100 requests, 5 per account (the per-login cap), 20 per source address (the per-IP cap), spread over both nodes.
    const requests = Array.from({ length: 100 }, (_, i) => ({
      node: i % 2 ? b : a,
      login: `mass${(i % 20) + 1}`,
      from: `127.0.0.${40 + (i % 5)}`,
    }));
    const replies = await Promise.all(requests.map((r) => call(r.node, 'POST', '/api/v1/recovery/email', { body: { login: r.login }, from: r.from })));
    assert.deepEqual(
      replies.map((r) => r.status).filter((s) => s !== 202),
      [],
      'every request accepted',
    );
    await smtp.waitFor((mail) => isMass(mail.to), 100, 90_000);
    // Both workers keep polling: give them time to send anything twice.
    await waitUntil(async () => {
      const depth = await sql<{ n: string }>`select count(*) as n from outbox where status in ('queued', 'processing')`.execute(store!.db);
      return Number(depth.rows[0]?.n) === 0;
    }, 30_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 2500));

    const letters = smtp.mails.filter((mail) => isMass(mail.to));
    assert.equal(letters.length, 100, 'one letter per request, none twice');
    const perRecipient = new Map<string, number>();
    for (const letter of letters) perRecipient.set(letter.to, (perRecipient.get(letter.to) ?? 0) + 1);
    assert.equal(perRecipient.size, 20);
    for (const [to, count] of perRecipient) assert.equal(count, 5, `letters to ${to}`);
    assert.equal(new Set(letters.map(linkIn)).size, 100, 'every letter carries its own link');

    const after = { a: await sentBy(a, 'email'), b: await sentBy(b, 'email') };
    const byA = after.a - before.a;
    const byB = after.b - before.b;
    assert.equal(byA + byB, 100, `sent by a: ${byA}, by b: ${byB}`);
    t.diagnostic(`letters sent by node a: ${byA}, by node b: ${byB}`);
    const outbox = await sql<{ channel: string; status: string; n: string }>`select channel, status, count(*) as n from outbox group by channel, status order by channel, status`.execute(store!.db);
    assert.deepEqual(
      outbox.rows.filter((r) => r.status !== 'sent'),
      [],
      'nothing abandoned or stuck',
    );
  });

  it('a session made on one node works on the other, and signing out on that one ends it on both', async () => {
    const from = '127.0.0.51';
    const signedIn = await call(a, 'POST', '/api/v1/session', { body: { login: 'olga', password: PASSWORD }, from });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const setCookie = ([] as string[]).concat(signedIn.headers['set-cookie'] ?? []).find((c) => c.startsWith('lk_session='));
    assert.ok(setCookie, 'a session cookie');
    const cookie = setCookie.split(';')[0] ?? '';

    const me = await call(b, 'GET', '/api/v1/me', { cookie, from });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal((me.body.account as { login?: string } | undefined)?.login, 'olga');

    const out = await call(b, 'DELETE', '/api/v1/session', { cookie, from, origin: new URL(PUBLIC_URL).origin });
    assert.equal(out.status, 204);
    const gone = await call(a, 'GET', '/api/v1/me', { cookie, from });
    assert.equal(gone.status, 401);
  });

  it('OpenID Connect: a code issued by node a is redeemed at node b, whose userinfo then answers for it', async () => {
    const from = '127.0.0.71';
    const on = (node: Node) => `http://127.0.0.1:${node.port}`;
    // Sign in at Latchkey on node a (the API sets the same session cookie the /login page does).
    const signedIn = await call(a, 'POST', '/api/v1/session', { body: { login: 'olga', password: PASSWORD }, from });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const session = ([] as string[]).concat(signedIn.headers['set-cookie'] ?? []).find((c) => c.startsWith('lk_session='))?.split(';')[0]?.split('=')[1];
    assert.ok(session);
    const browser = new Browserless();
    browser.setCookie('lk_session', session, new URL(on(a)));

    // The authorization request and every redirect of it on node a (its URLs name the public URL, which
    // no node listens on here: the path goes to node a).
    const verifier = oidc.randomPKCECodeVerifier();
    const query = new URLSearchParams({
      client_id: 'acme-app',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'two-nodes-state',
      nonce: 'two-nodes-nonce',
    });
    let hop: Hop = await browser.request(`${on(a)}/oidc/auth?${query}`);
    for (let hops = 0; hop.location && !hop.location.startsWith(CALLBACK) && hops < 10; hops++) {
      const next = new URL(hop.location);
      hop = await browser.request(new URL(next.pathname + next.search, on(a)));
    }
    assert.ok(hop.location?.startsWith(CALLBACK), `no redirect to the application: ${hop.url} ${hop.status} ${hop.body.slice(0, 300)}`);
    const callback = new URL(hop.location ?? '');
    assert.ok(callback.searchParams.get('code'));

    // The application's back channel talks to node b.
    const metadata: oidc.ServerMetadata = { issuer: PUBLIC_URL, token_endpoint: `${on(b)}/oidc/token`, userinfo_endpoint: `${on(b)}/oidc/me`, jwks_uri: `${on(b)}/oidc/jwks` };
    const onB = new oidc.Configuration(metadata, 'acme-app', appSecret, oidc.ClientSecretBasic(appSecret));
    oidc.allowInsecureRequests(onB);
    const tokens = await oidc.authorizationCodeGrant(onB, callback, { pkceCodeVerifier: verifier, expectedState: 'two-nodes-state', expectedNonce: 'two-nodes-nonce' });
    const sub = String(tokens.claims()?.sub);
    const info = await oidc.fetchUserInfo(onB, tokens.access_token, sub);
    assert.equal(info.preferred_username, 'olga');
    assert.deepEqual(info.portal, { slug: 'acme', role: 'employee' });
    // Used once, on either node: node a refuses the code node b redeemed.
    const onA = new oidc.Configuration({ ...metadata, token_endpoint: `${on(a)}/oidc/token` }, 'acme-app', appSecret, oidc.ClientSecretBasic(appSecret));
    oidc.allowInsecureRequests(onA);
    await assert.rejects(
      oidc.authorizationCodeGrant(onA, callback, { pkceCodeVerifier: verifier, expectedState: 'two-nodes-state', expectedNonce: 'two-nodes-nonce' }),
      (error: unknown) => error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant',
    );
  });

  it('keeps answering when Redis hangs: limits fall back to per-node counting, never a 5xx', async () => {
    const from = '127.0.0.61';
    redis!.pause();
    try {
      const started = Date.now();
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const reply = await call(i % 2 ? b : a, 'POST', '/api/v1/recovery/email', { body: { login: 'while-redis-hangs' }, from });
        statuses.push(reply.status);
      }
      // Per node now: 4 requests each stay under the per-login 5, none is refused, none fails.
      assert.deepEqual(statuses, [202, 202, 202, 202, 202, 202, 202, 202]);
      assert.ok(Date.now() - started < 20_000, 'a hung Redis costs a bounded wait, not a hang');
      for (const node of [a, b]) {
        const metrics = await (await fetch(`http://127.0.0.1:${node.managementPort}/metrics`)).text();
        const fallbacks = Number(/^latchkey_rate_limit_fallbacks_total (\d+)/m.exec(metrics)?.[1] ?? 0);
        assert.ok(fallbacks > 0, `node ${node.name} counted its fallbacks`);
        assert.match(metrics, /^latchkey_rate_limit_redis_up 0$/m);
        await waitUntil(() => node.output.some((line) => line.includes('Redis unreachable')), 10_000);
      }
      // Limits still hold per node: the 6th request to one node is refused by that node's own count.
      const more: number[] = [];
      for (let i = 0; i < 2; i++) more.push((await call(a, 'POST', '/api/v1/recovery/email', { body: { login: 'while-redis-hangs' }, from })).status);
      assert.deepEqual(more, [202, 429]);
    } finally {
      redis!.resume();
    }
  });
});

describe('outbox claims on PostgreSQL under contention', () => {
  it('eight workers claiming at once (one connection pool each, like eight nodes) never share a message', async () => {
    const pgDb = await createTestDatabase();
    const stores = Array.from({ length: 8 }, () => openStore(pgDb.url));
    try {
      await migrateToLatest(stores[0]!);
      const now = new Date().toISOString();
      const due = new Date(Date.now() - 1000).toISOString();
      for (let i = 0; i < 400; i++) {
        await enqueueMessage(stores[0]!.db, { channel: 'email', kind: 'test', recipient: `r${i}@example.com`, subject: null, payload: 'x' }, due);
      }
      const lockedUntil = new Date(Date.now() + 3600_000).toISOString();
      const claims = new Map<number, number>();
      await Promise.all(
        stores.map(async (store) => {
          for (;;) {
            const batch = await claimDueMessages(store.db, 'postgres', now, lockedUntil, 7);
            if (batch.length === 0) return;
            for (const message of batch) claims.set(message.id, (claims.get(message.id) ?? 0) + 1);
          }
        }),
      );
      assert.equal(claims.size, 400, 'every message claimed');
      const twice = [...claims].filter(([, n]) => n > 1);
      assert.deepEqual(twice, [], 'no message claimed by two workers');
    } finally {
      for (const store of stores) await store.close();
      await pgDb.drop();
    }
  });
});
