import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { buildDeps } from '../../src/deps.js';
import { checkClientUri, findClientMetadata } from '../../src/oidc/clients.js';
import { ensureSigningKeys } from '../../src/oidc/keys.js';
import { latchkey } from '../support/cli.js';
import { DIALECTS } from '../support/app.js';
import { createTestDatabase } from '../support/pg.js';

/** SPEC §4 `latchkey client …` and `latchkey keys rotate`; rule 18: secrets shown once, stored sealed. */


for (const dialect of DIALECTS) {
  describe(`CLI: OpenID Connect clients and keys (${dialect})`, () => {
    let env: Record<string, string>;
    let cleanup: () => Promise<void>;
    const withDeps = async <T>(run: (deps: Awaited<ReturnType<typeof buildDeps>>) => Promise<T>): Promise<T> => {
      const deps = await buildDeps(loadConfig(env), { logger: pino({ level: 'silent' }) });
      try {
        return await run(deps);
      } finally {
        await deps.close();
      }
    };

    before(async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-oidc-cli-'));
      const pgDb = dialect === 'postgres' ? await createTestDatabase() : undefined;
      env = { LATCHKEY_DATA_DIR: dir, LATCHKEY_DATABASE_URL: pgDb?.url ?? `sqlite:${path.join(dir, 'db.sqlite')}`, LATCHKEY_SECRET: 'cli-secret-cli-secret-cli-secret-0123456789' };
      cleanup = async () => {
        await pgDb?.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      };
      const portal = await latchkey(env, ['portal', 'add', 'acme', '--title', 'Acme Corp']);
      assert.equal(portal.code, 0, portal.stderr);
    });
    after(() => cleanup());

    it('client add prints the id and the secret once; the secret is stored sealed; list never shows it', async () => {
      const added = await latchkey(env, ['client', 'add', 'crm', '--portal', 'acme', '--redirect-uri', 'https://crm.acme.example/cb', '--redirect-uri', 'http://localhost:8080/cb', '--post-logout-redirect-uri', 'https://crm.acme.example/bye']);
      assert.equal(added.code, 0, added.stderr);
      const secret = /^client_secret=(\S+)$/m.exec(added.stdout)?.[1] ?? '';
      assert.match(added.stdout, /^client_id=crm$/m);
      assert.ok(secret.length >= 43, 'a 256-bit secret');
      const row = await withDeps((deps) => deps.store.db.selectFrom('oidc_clients').selectAll().where('client_id', '=', 'crm').executeTakeFirstOrThrow());
      assert.ok(row.sealed_secret && !row.sealed_secret.includes(secret) && !row.metadata.includes(secret), 'sealed, never in clear');
      const metadata = await withDeps((deps) => findClientMetadata(deps, 'crm'));
      assert.equal(metadata?.client_secret, secret);
      assert.deepEqual(metadata?.redirect_uris, ['https://crm.acme.example/cb', 'http://localhost:8080/cb']);

      const spa = await latchkey(env, ['client', 'add', 'spa', '--portal', 'acme', '--redirect-uri', 'https://spa.acme.example/cb', '--public']);
      assert.equal(spa.code, 0, spa.stderr);
      assert.equal(spa.stdout, 'client_id=spa\n');

      const listed = await latchkey(env, ['client', 'list']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^crm portal=acme confidential redirect_uris=https:\/\/crm\.acme\.example\/cb,http:\/\/localhost:8080\/cb/m);
      assert.match(listed.stdout, /^spa portal=acme public/m);
      assert.ok(!listed.stdout.includes(secret));
    });

    it('rotate-secret replaces the secret; remove deletes the client', async () => {
      const before = await withDeps((deps) => findClientMetadata(deps, 'crm'));
      const rotated = await latchkey(env, ['client', 'rotate-secret', 'crm']);
      assert.equal(rotated.code, 0, rotated.stderr);
      const secret = /^client_secret=(\S+)$/m.exec(rotated.stdout)?.[1];
      assert.ok(secret && secret !== before?.client_secret);
      assert.equal((await withDeps((deps) => findClientMetadata(deps, 'crm')))?.client_secret, secret);
      const publicRotate = await latchkey(env, ['client', 'rotate-secret', 'spa']);
      assert.equal(publicRotate.code, 1);
      const removed = await latchkey(env, ['client', 'remove', 'crm']);
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(await withDeps((deps) => findClientMetadata(deps, 'crm')), undefined);
      const again = await latchkey(env, ['client', 'remove', 'crm']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /not_found/);
    });

    it('refuses redirect URIs that are not absolute https (http only on loopback), have fragments, or an unknown portal', async () => {
      for (const uri of ['/relative', 'http://crm.acme.example/cb', 'https://crm.acme.example/cb#frag', 'javascript:alert(1)']) {
        const refused = await latchkey(env, ['client', 'add', 'bad', '--portal', 'acme', '--redirect-uri', uri]);
        assert.equal(refused.code, 1, uri);
        assert.match(refused.stderr, /^latchkey: invalid_request: redirect_uri/m, uri);
      }
      // In production http:// is refused even on loopback (checked directly: a production config needs SMTP and more).
      assert.throws(() => checkClientUri('http://localhost:8080/cb', 'redirect_uri', true), /loopback host outside production/);
      assert.equal(checkClientUri('http://localhost:8080/cb', 'redirect_uri', false), 'http://localhost:8080/cb');
      const noPortal = await latchkey(env, ['client', 'add', 'bad', '--portal', 'nowhere', '--redirect-uri', 'https://x.example/cb']);
      assert.equal(noPortal.code, 1);
      assert.equal((await latchkey(env, ['client', 'list'])).stdout.includes('bad '), false);
    });

    it('keys rotate retires the live keys and adds the next generation; two nodes starting at once make one set', async () => {
      await withDeps((deps) => Promise.all([ensureSigningKeys(deps), ensureSigningKeys(deps)]));
      const first = await withDeps((deps) => deps.store.db.selectFrom('oidc_keys').select(['kid', 'retired_at', 'sealed_jwk']).orderBy('kid').execute());
      assert.deepEqual(first.map((k) => k.kid), ['es256-1', 'rs256-1']);
      assert.ok(first.every((k) => !k.sealed_jwk.includes('"d"')), 'private keys sealed');
      const rotated = await latchkey(env, ['keys', 'rotate']);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /rs256-2, es256-2/);
      const keys = await withDeps((deps) => deps.store.db.selectFrom('oidc_keys').select(['kid', 'retired_at']).orderBy('kid').execute());
      assert.deepEqual(keys.map((k) => `${k.kid}:${k.retired_at ? 'retired' : 'live'}`), ['es256-1:retired', 'es256-2:live', 'rs256-1:retired', 'rs256-2:live']);
    });
  });
}
