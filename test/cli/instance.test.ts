// Issue 14, item 1: LATCHKEY_DATA_DIR moves the embedded database with the secret, and a database refuses an
// instance of the other edition, or with another secret, with one line and a non-zero exit code.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DIALECTS } from '../support/app.js';
import { latchkey } from '../support/cli.js';
import { createTestDatabase } from '../support/pg.js';

const SECRET = 'instance-test-secret-instance-test-secret-01';
const OTHER_SECRET = 'another-secret-another-secret-another-secret-02';
/** A `start` that does not refuse keeps running; it is stopped after this long and the test fails. */
const START_TIMEOUT_MS = 20_000;
/** Free ports, so a start that wrongly goes ahead does not collide with anything. */
const ANY_PORTS = { LATCHKEY_PORT: '0', LATCHKEY_MANAGEMENT_PORT: '0' };

describe('LATCHKEY_DATA_DIR', () => {
  let cwd: string;
  before(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-instances-'));
  });
  after(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('two data folders started from one working folder get two databases', async () => {
    const cloud = { LATCHKEY_DATA_DIR: path.join(cwd, 'cloud') };
    const box = { LATCHKEY_DATA_DIR: path.join(cwd, 'box'), LATCHKEY_EDITION: 'box' };
    const first = await latchkey(cloud, ['user', 'add', '--login', 'demo', '--email', 'demo@example.com'], { cwd });
    assert.equal(first.code, 0, first.stderr);
    // On one shared database the login would be taken, or the box would refuse the cloud's database.
    const second = await latchkey(box, ['user', 'add', '--login', 'demo', '--email', 'demo@example.com'], { cwd });
    assert.equal(second.code, 0, second.stderr);
    assert.ok(fs.existsSync(path.join(cwd, 'cloud', 'latchkey.db')));
    assert.ok(fs.existsSync(path.join(cwd, 'box', 'latchkey.db')));
    assert.ok(!fs.existsSync(path.join(cwd, 'data')), 'nothing is written to ./data when LATCHKEY_DATA_DIR is set');
  });
});

for (const dialect of DIALECTS) {
  describe(`a database belongs to its instance (${dialect})`, () => {
    let env: Record<string, string>;
    let cleanup: () => Promise<void>;

    before(async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-instance-'));
      const pgDb = dialect === 'postgres' ? await createTestDatabase() : undefined;
      env = { LATCHKEY_DATA_DIR: dir, LATCHKEY_SECRET: SECRET, ...(pgDb ? { LATCHKEY_DATABASE_URL: pgDb.url } : {}) };
      cleanup = async () => {
        await pgDb?.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      };
      const made = await latchkey(env, ['portal', 'add', 'acme', '--title', 'Acme Corp']);
      assert.equal(made.code, 0, made.stderr);
    });
    after(() => cleanup());

    it('a box start on a cloud database stops with one line naming LATCHKEY_EDITION', async () => {
      const run = await latchkey({ ...env, ...ANY_PORTS, LATCHKEY_EDITION: 'box' }, ['start'], { timeoutMs: START_TIMEOUT_MS });
      assert.ok(!run.timedOut, 'the box instance started on the cloud database');
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^latchkey: LATCHKEY_EDITION: this database belongs to a cloud instance, not box; .*LATCHKEY_DATA_DIR or LATCHKEY_DATABASE_URL\)\n$/);
    });

    it('a start with another LATCHKEY_SECRET stops with one line naming LATCHKEY_SECRET, and never prints a secret', async () => {
      const run = await latchkey({ ...env, ...ANY_PORTS, LATCHKEY_SECRET: OTHER_SECRET }, ['start'], { timeoutMs: START_TIMEOUT_MS });
      assert.ok(!run.timedOut, 'the instance with another secret started on the database');
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^latchkey: LATCHKEY_SECRET: this database was made with another secret\b[^\n]*\n$/);
      assert.ok(!run.stderr.includes(SECRET) && !run.stderr.includes(OTHER_SECRET));
    });

    it('a CLI command with another secret is refused too; the right edition and secret still work', async () => {
      const refused = await latchkey({ ...env, LATCHKEY_SECRET: OTHER_SECRET }, ['user', 'add', '--login', 'ivan']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^latchkey: LATCHKEY_SECRET: /);
      const same = await latchkey(env, ['user', 'add', '--login', 'ivan']);
      assert.equal(same.code, 0, same.stderr);
    });
  });
}

describe('the generated secret', () => {
  it('a data folder whose secret file differs from the one that made the database is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-instance-file-'));
    try {
      const env = { LATCHKEY_DATA_DIR: dir };
      const made = await latchkey(env, ['user', 'add', '--login', 'petr']);
      assert.equal(made.code, 0, made.stderr);
      assert.ok(fs.existsSync(path.join(dir, 'secret')));
      fs.rmSync(path.join(dir, 'secret'));
      const run = await latchkey(env, ['user', 'add', '--login', 'olga']);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^latchkey: LATCHKEY_SECRET: /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
