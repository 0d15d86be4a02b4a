import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { freeLoopbackPort } from '../../scripts/free-port.js';
import { loadConfig } from '../../src/config.js';
import { buildDeps } from '../../src/deps.js';
import { signIn } from '../../src/flows/sign-in.js';
import { DIALECTS } from '../support/app.js';
import { bitrixBareMd5, bitrixSaltedMd5, bitrixSha512 } from '../support/bitrix-hashes.js';
import { createTestDatabase } from '../support/pg.js';
import { waitUntil } from '../support/wait.js';

/** `latchkey import bitrix`, `latchkey backup`, `latchkey restore` (issue 15, items 2 and 3), as the operator runs them. */

const BIN = path.resolve('bin/latchkey.js');
const SECRET = 'backup-test-secret-backup-test-secret-0123456789';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function latchkey(env: Record<string, string>, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', LATCHKEY_LOG_LEVEL: 'warn', ...env },
      cwd: env.LATCHKEY_DATA_DIR,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

async function signsIn(env: Record<string, string>, logins: Array<[string, string]>): Promise<string[]> {
  const deps = await buildDeps(loadConfig(env), { logger: pino({ level: 'silent' }) });
  const refused: string[] = [];
  try {
    for (const [login, password] of logins) {
      try {
        await signIn(deps, { login, password }, { ip: '127.0.0.1' });
      } catch {
        refused.push(login);
      }
    }
  } finally {
    await deps.close();
  }
  return refused;
}

/** A CSV export of Bitrix's users with the three hash forms, in Bitrix's `;`-separated Russian flavour. */
function bitrixCsv(people: Array<[string, string]>): string {
  const forms = [bitrixSha512, bitrixSaltedMd5, bitrixBareMd5];
  const quote = (field: string) => (/[;"\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field);
  const lines = people.map(([login, password], i) => [login, `${login}@example.com`, 'Имя', 'Фамилия', (forms[i % 3] ?? bitrixBareMd5)(password), 'Y', 'Y'].map(quote).join(';'));
  return ['LOGIN;EMAIL;NAME;LAST_NAME;PASSWORD;ACTIVE;EMAIL_VERIFIED', ...lines].join('\n');
}

const people = (prefix: string, n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `${prefix}-password-${i}`]);

for (const dialect of DIALECTS) {
  describe(`latchkey import bitrix, backup, restore (${dialect})`, () => {
    let env: Record<string, string>;
    let dir: string;
    let cleanup: () => Promise<void>;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-import-'));
      const pgDb = dialect === 'postgres' ? await createTestDatabase() : undefined;
      env = { LATCHKEY_DATA_DIR: dir, LATCHKEY_SECRET: SECRET, LATCHKEY_DATABASE_URL: pgDb?.url ?? `sqlite:${path.join(dir, 'latchkey.db')}` };
      cleanup = async () => {
        await pgDb?.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      };
    });
    after(() => cleanup());

    it('imports a file and prints what came in, what was refused and who is on a bare md5', async () => {
      assert.equal((await latchkey(env, ['portal', 'add', 'acme', '--title', 'Acme'])).code, 0);
      const file = path.join(dir, 'users.csv');
      fs.writeFileSync(file, `\uFEFF${bitrixCsv(people('emp', 3))}\nemp0;dup@example.com;;;;Y;N\n`);
      const run = await latchkey(env, ['import', 'bitrix', '--file', file, '--portal', 'acme']);
      assert.equal(run.code, 1, 'a refused line makes the exit code non-zero');
      assert.match(run.stdout, /^imported: 3 \(members of acme\)$/m);
      assert.match(run.stdout, /^refused: 1$/m);
      assert.match(run.stdout, /^ {2}line 5 \(emp0\): login repeats line 2$/m);
      assert.match(run.stdout, /bare md5.*: 1\n {2}emp2$/m);
      assert.deepEqual(await signsIn(env, people('emp', 3)), []);

      fs.writeFileSync(file, bitrixCsv(people('json', 2)));
      const asJson = await latchkey(env, ['import', 'bitrix', '--file', file, '--portal', 'acme', '--json']);
      assert.equal(asJson.code, 0, asJson.stderr);
      const report = JSON.parse(asJson.stdout) as { imported: number; refused: unknown[]; bareMd5: string[]; portal: string };
      assert.deepEqual({ ...report }, { portal: 'acme', imported: 2, disabled: 0, withoutPassword: 0, refused: [], bareMd5: [] });
    });

    it('the box edition puts people in its one portal by default', async () => {
      // A box instance has a database of its own: the cloud one above refuses to be opened as a box.
      const boxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-import-box-'));
      const boxDb = dialect === 'postgres' ? await createTestDatabase() : undefined;
      try {
        const file = path.join(boxDir, 'box.csv');
        fs.writeFileSync(file, bitrixCsv(people('boxer', 1)));
        const boxEnv = { LATCHKEY_DATA_DIR: boxDir, LATCHKEY_SECRET: SECRET, LATCHKEY_DATABASE_URL: boxDb?.url ?? `sqlite:${path.join(boxDir, 'latchkey.db')}`, LATCHKEY_EDITION: 'box', LATCHKEY_BOX_PORTAL_SLUG: 'office' };
        const run = await latchkey(boxEnv, ['import', 'bitrix', '--file', file]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^imported: 1 \(members of office\)$/m);
      } finally {
        await boxDb?.drop();
        fs.rmSync(boxDir, { recursive: true, force: true });
      }
    });

    it('refuses a missing file or option with one line', async () => {
      const missing = await latchkey(env, ['import', 'bitrix', '--file', path.join(dir, 'nope.csv')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^latchkey: cannot read .*nope\.csv: ENOENT\n$/);
      const noFile = await latchkey(env, ['import', 'bitrix']);
      assert.equal(noFile.code, 1);
      assert.match(noFile.stderr, /import bitrix needs --file/);
    });

    if (dialect === 'postgres') {
      it('backup and restore on PostgreSQL point to pg_dump and pg_restore', async () => {
        for (const args of [['backup', '--to', path.join(dir, 'b.db')], ['restore', '--from', path.join(dir, 'b.db')]]) {
          const run = await latchkey(env, args);
          assert.equal(run.code, 1);
          assert.match(run.stderr, /^latchkey: PostgreSQL: back up with pg_dump -Fc and restore with pg_restore/);
          assert.equal(run.stderr.split('\n').length, 2, 'one line');
        }
      });
    }
  });
}

class ServerProcess {
  child: ChildProcess | undefined;
  output = '';
  constructor(private readonly env: Record<string, string>) {}

  async start(baseUrl: string): Promise<void> {
    const child = spawn(process.execPath, [BIN, 'start'], {
      cwd: this.env.LATCHKEY_DATA_DIR,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${this.output}`);
      try {
        return (await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200;
      } catch {
        return false;
      }
    }, 60_000, 100);
  }

  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}

describe('latchkey backup under load, restore into a fresh data folder (sqlite)', () => {
  const ACCOUNTS = 30;
  const everyone = people('worker', ACCOUNTS);
  let source: Record<string, string>;
  let fresh: Record<string, string>;
  let server: ServerProcess;
  let baseUrl: string;
  let root: string;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-backup-'));
    const live = path.join(root, 'live');
    const restored = path.join(root, 'restored');
    fs.mkdirSync(live);
    fs.mkdirSync(restored);
    const port = await freeLoopbackPort();
    baseUrl = `http://127.0.0.1:${port}`;
    source = {
      LATCHKEY_DATA_DIR: live,
      LATCHKEY_DATABASE_URL: `sqlite:${path.join(live, 'latchkey.db')}`,
      LATCHKEY_SECRET: SECRET,
      LATCHKEY_HOST: '127.0.0.1',
      LATCHKEY_PORT: String(port),
      LATCHKEY_MANAGEMENT_PORT: '0',
      LATCHKEY_RATE_LIMITS: 'off',
      LATCHKEY_LOG_LEVEL: 'warn',
    };
    fresh = { LATCHKEY_DATA_DIR: restored, LATCHKEY_DATABASE_URL: `sqlite:${path.join(restored, 'latchkey.db')}`, LATCHKEY_SECRET: SECRET };
    assert.equal((await latchkey(source, ['portal', 'add', 'acme', '--title', 'Acme'])).code, 0);
    const file = path.join(root, 'users.csv');
    fs.writeFileSync(file, bitrixCsv(everyone));
    const imported = await latchkey(source, ['import', 'bitrix', '--file', file, '--portal', 'acme']);
    assert.equal(imported.code, 0, imported.stdout + imported.stderr);
    server = new ServerProcess(source);
    await server.start(baseUrl);
  });

  after(async () => {
    await server?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('backs up while people sign in, refuses to restore under the live server, and the restored copy lets everyone in', async () => {
    // Load: sign-ins write sessions, audit rows and (the first time) argon2id hashes the whole time.
    let loading = true;
    let signIns = 0;
    const failures: string[] = [];
    const load = Array.from({ length: 4 }, async (_, worker) => {
      for (let i = worker; loading; i += 4) {
        const [login, password] = everyone[i % ACCOUNTS] ?? ['', ''];
        const response = await fetch(`${baseUrl}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password }) });
        if (response.status === 200) signIns += 1;
        else failures.push(`${login}: ${response.status}`);
      }
    });
    try {
      await waitUntil(() => signIns >= 8, 30_000);
      const backupFile = path.join(root, 'latchkey-backup.db');
      const backup = await latchkey(source, ['backup', '--to', backupFile]);
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stdout, /backup of .*latchkey\.db written to .*latchkey-backup\.db/);
      const during = signIns;
      await waitUntil(() => signIns >= during + 4, 30_000);

      const again = await latchkey(source, ['backup', '--to', backupFile]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /latchkey-backup\.db exists: choose a new file/);

      const underServer = await latchkey(source, ['restore', '--from', backupFile, '--force']);
      assert.equal(underServer.code, 1);
      assert.match(underServer.stderr, /^latchkey: a server \(process \d+\) runs on .*latchkey\.db: stop it first\n$/);

      loading = false;
      await Promise.all(load);
      assert.deepEqual(failures, []);
      assert.equal(await server.stop(), 0);
      assert.ok(!fs.existsSync(path.join(source.LATCHKEY_DATA_DIR ?? '', 'latchkey.db.server.pid')), 'a stopped server leaves no mark');

      const restore = await latchkey(fresh, ['restore', '--from', backupFile]);
      assert.equal(restore.code, 0, restore.stderr);
      assert.deepEqual(await signsIn(fresh, everyone), [], 'every account signs in on the restored copy');

      // Over an existing database only with --force; a mark a killed server left counts for nothing.
      const existing = await latchkey(fresh, ['restore', '--from', backupFile]);
      assert.equal(existing.code, 1);
      assert.match(existing.stderr, /exists: add --force to replace it/);
      fs.writeFileSync(path.join(fresh.LATCHKEY_DATA_DIR ?? '', 'latchkey.db.server.pid'), '2147483646\n');
      const forced = await latchkey(fresh, ['restore', '--from', backupFile, '--force']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(await signsIn(fresh, everyone.slice(0, 3)), []);

      const notADatabase = path.join(root, 'users.csv');
      const bad = await latchkey(fresh, ['restore', '--from', notADatabase, '--force']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /users\.csv is not a readable SQLite database/);
    } finally {
      loading = false;
      await Promise.all(load);
    }
  });
});
