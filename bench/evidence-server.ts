/**
 * Child process for the evidence phases (bench/evidence.ts): the product app exactly as `latchkey start`
 * builds it (src/main.ts: the app, the management listener, the outbox worker deferring to requests),
 * plus, in this bench server only, `POST /bench/insert`: a bare route that answers 202 after one INSERT
 * into the same PostgreSQL through the same pool. It is the ceiling for a request that writes one row,
 * measured in the same process as the reset requests; and `GET /bench/hashes`, how many argon2id hashes and
 * verifications the app has run. Runs the sources through tsx (the bundle has no
 * way to add a route); stops itself when the bench goes away (IPC channel closed).
 */
import { sql } from 'kysely';
import { buildApp, buildManagementApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { createArgon2Hasher, type PasswordHasher } from '../src/kernel/password-hasher.js';
import { requestPressure } from '../src/kernel/request-pressure.js';

const config = loadConfig(process.env);
// The app's own argon2id hasher, counting its calls: GET /bench/hashes says how many hashes a flow cost.
const argon2 = await createArgon2Hasher();
const hashes = { verify: 0, verifyDummy: 0, hash: 0 };
const hasher: PasswordHasher = {
  ...argon2,
  verify: (stored, password) => ((hashes.verify += 1), argon2.verify(stored, password)),
  verifyDummy: (password) => ((hashes.verifyDummy += 1), argon2.verifyDummy(password)),
  hash: (password) => ((hashes.hash += 1), argon2.hash(password)),
};
const deps = await buildDeps(config, { hasher });
const app = await buildApp(deps);
const management = await buildManagementApp(deps);

await sql`create table if not exists bench_ceiling (id bigserial primary key, body text not null, created_at text not null)`.execute(deps.store.db);
app.post<{ Body: { login: string } }>(
  '/bench/insert',
  { schema: { body: { type: 'object', required: ['login'], properties: { login: { type: 'string', minLength: 1, maxLength: 320 } } } } },
  async (request, reply) => {
    await sql`insert into bench_ceiling (body, created_at) values (${request.body.login}, ${new Date().toISOString()})`.execute(deps.store.db);
    return reply.status(202).send({});
  },
);

app.get('/bench/hashes', async () => hashes);

// As src/main.ts: the worker in this process defers to requests while they saturate it.
deps.worker.yieldWhile(requestPressure(app.server).pressing);
await management.listen({ host: config.management.host, port: config.management.port });
await app.listen({ host: config.host, port: config.port });
deps.worker.start();

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  await management.close();
  await deps.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
process.on('disconnect', () => void stop());
