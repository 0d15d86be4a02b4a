// Issue 6, fault b: the server PROCESS (`node bin/latchkey.js start`, the real thing) is killed with SIGKILL
// while recovery letters are queued and being sent, then started again on the same PostgreSQL database.
//
// What must hold, and what cannot:
// - Jobs (resolve the request, issue the token, queue the letter) commit together with their "done" mark,
//   so each request issues exactly one token, crash or not.
// - Letters are delivered at least once: a letter the SMTP server accepted just before the kill, but not yet
//   recorded as sent, goes out again after the restart. No sender can avoid that window (SMTP has no
//   two-phase commit); what the outbox guarantees is that the copy is the SAME message: one Message-ID per
//   outbox row at every attempt, the same link. So the test counts letters by Message-ID: exactly one per
//   issued token, every raw copy of it identical, and every token usable exactly once afterwards.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { sha256 } from '../../src/kernel/crypto.js';
import { openStore, type Store } from '../../src/store/db.js';
import { seedAccount, startTestApp } from '../support/app.js';
import { createTestDatabase } from '../support/pg.js';
import { freeLoopbackPort } from '../../scripts/free-port.js';
import { waitUntil } from '../support/wait.js';
import { MailSink, tokenIn, type SunkMail } from './helpers/mail-sink.js';

const LETTERS = 200;
const SECRET = 'crash-test-secret-crash-test-secret-0123456789';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const login = (i: number) => `crash${i}`;
const email = (i: number) => `crash${i}@example.com`;

class ServerProcess {
  private child: ChildProcess | undefined;
  output = '';
  constructor(private readonly env: Record<string, string>) {}

  async start(baseUrl: string): Promise<void> {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/latchkey.js'), 'start'], {
      cwd: this.env.LATCHKEY_DATA_DIR, // no stray .env file is read
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    try {
      await waitUntil(async () => {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
        try {
          return (await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200;
        } catch {
          return false;
        }
      }, 60_000, 100);
    } catch (error) {
      throw new Error(`server did not become ready: ${(error as Error).message}\n${this.output.slice(-3000)}`);
    }
  }

  /** SIGKILL: no shutdown hook runs, in-flight work is cut where it stands. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

describe('server killed with SIGKILL while letters are queued, restarted on the same database', () => {
  let db: { url: string; drop(): Promise<void> };
  let sink: MailSink;
  let store: Store;
  let server: ServerProcess;
  let baseUrl: string;
  let dataDir: string;

  before(async () => {
    db = await createTestDatabase();
    sink = new MailSink();
    await sink.start();
    // Seed through the app's own operator flow, then let go of the database.
    const seeder = await startTestApp({ dialect: 'sqlite', worker: false, env: { LATCHKEY_DATABASE_URL: db.url, LATCHKEY_SECRET: SECRET } });
    for (let i = 0; i < LETTERS; i += 1) await seedAccount(seeder.deps, { login: login(i), email: email(i), password: undefined });
    await seeder.close();
    store = openStore(db.url);
    const port = await freeLoopbackPort();
    baseUrl = `http://127.0.0.1:${port}`;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-crash-'));
    server = new ServerProcess({
      LATCHKEY_DATABASE_URL: db.url,
      LATCHKEY_HOST: '127.0.0.1',
      LATCHKEY_PORT: String(port),
      LATCHKEY_MANAGEMENT_PORT: '0',
      LATCHKEY_PUBLIC_URL: 'http://localhost:3000',
      LATCHKEY_SMTP_URL: sink.url,
      LATCHKEY_SECRET: SECRET,
      LATCHKEY_RATE_LIMITS: 'off',
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_LOG_LEVEL: 'warn',
    });
  });

  after(async () => {
    await server?.kill('SIGTERM');
    await store?.close();
    await sink?.stop();
    await db?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('every issued token gets its letter exactly once (by Message-ID), and stays usable once', async (t) => {
    // A slow mail server keeps letters in flight, so the kill lands mid-delivery.
    sink.acceptDelayMs = 20;
    await server.start(baseUrl);
    for (let i = 0; i < LETTERS; i += 20) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, k) =>
          fetch(`${baseUrl}/api/v1/recovery/email`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: login(i + k) }) }),
        ),
      );
      for (const a of answers) assert.equal(a.status, 202);
    }
    await sink.waitForCount(30, 60_000);
    await server.kill('SIGKILL');
    const atKill = sink.mails.length;
    const states = (await sql<{ channel: string; status: string; n: number }>`select channel, status, count(*) as n from outbox group by channel, status order by 1, 2`.execute(store.db)).rows;
    t.diagnostic(`at the kill: ${atKill} letters received; outbox ${states.map((r) => `${r.channel}/${r.status}=${r.n}`).join(' ')}`);
    assert.ok(atKill < LETTERS, 'the kill came before the last letter');

    // Restart on the same database (and port); the new process takes over what the dead one held.
    sink.acceptDelayMs = 0;
    await server.start(baseUrl);
    await waitUntil(() => new Set(sink.mails.map((m) => m.to)).size === LETTERS, 60_000, 100);
    await waitUntil(async () => {
      const row = (await sql<{ n: number }>`select count(*) as n from outbox where status in ('queued', 'processing')`.execute(store.db)).rows[0];
      return Number(row?.n) === 0;
    }, 60_000, 100);
    const left = (await sql<{ status: string; n: number }>`select status, count(*) as n from outbox group by status`.execute(store.db)).rows;
    assert.deepEqual(left.map((r) => r.status), ['sent'], `every outbox row ends sent: ${JSON.stringify(left)}`);

    // Exactly one token was issued per request (jobs are exactly-once), none consumed or revoked.
    const tokens = (await sql<{ account_id: string; token_hash: string; consumed_at: string | null; revoked_at: string | null }>`select account_id, token_hash, consumed_at, revoked_at from recovery_tokens`.execute(store.db)).rows;
    assert.equal(tokens.length, LETTERS, 'one token per request');
    assert.equal(new Set(tokens.map((r) => r.account_id)).size, LETTERS);
    assert.ok(tokens.every((r) => r.consumed_at === null && r.revoked_at === null), 'no token consumed or revoked by the crash');

    // Letters: one message (Message-ID) per token; a raw copy re-sent after the crash is the same message.
    const byRecipient = new Map<string, SunkMail[]>();
    for (const m of sink.mails) byRecipient.set(m.to, [...(byRecipient.get(m.to) ?? []), m]);
    const tokenHashes = new Set(tokens.map((r) => r.token_hash));
    let copies = 0;
    for (let i = 0; i < LETTERS; i += 1) {
      const mails = byRecipient.get(email(i)) ?? [];
      assert.equal(new Set(mails.map((m) => m.messageId)).size, 1, `${email(i)}: one message, got ids ${mails.map((m) => m.messageId).join(' ')}`);
      assert.equal(new Set(mails.map((m) => tokenIn(m))).size, 1, `${email(i)}: every copy carries the same link`);
      assert.ok(tokenHashes.has(sha256(tokenIn(mails[0] as SunkMail))), `${email(i)}: the link is the issued token`);
      copies += mails.length - 1;
    }
    t.diagnostic(`${copies} letter(s) re-sent after the crash as the same message (at-least-once window)`);
    assert.ok(copies <= 20, 'only letters in flight at the kill (one claimed batch at most) can be sent twice');

    // Every token is usable exactly once: a sample completes, and completes only once.
    for (let i = 0; i < LETTERS; i += 20) {
      const token = tokenIn((byRecipient.get(email(i)) ?? [])[0] as SunkMail);
      const complete = () =>
        fetch(`${baseUrl}/api/v1/recovery/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, password: `new-pass-${i}-after-crash` }) });
      const first = await complete();
      assert.equal(first.status, 200, await first.text());
      const second = await complete();
      assert.equal(second.status, 400);
      assert.equal(((await second.json()) as { code: string }).code, 'invalid_token');
    }
  });
});
