import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { iso } from '../kernel/clock.js';
import { Sealer } from '../kernel/crypto.js';
import type { FlowContext } from '../flows/context.js';

/**
 * The provider's signing keys (SPEC §10): one RS256 (RSA-2048, the default for ID tokens) and one ES256
 * (P-256, offered) per generation, generated at first start, the private JWKs sealed in `oidc_keys`.
 * `latchkey keys rotate` retires the current generation and adds the next; retired keys stay published
 * (never used to sign) for KEY_RETENTION_MS, so tokens signed before still verify. A running server reads
 * the keys when it starts: after a rotation, restart the nodes (the old keys remain valid meanwhile).
 */
type KeysContext = Pick<FlowContext, 'store' | 'clock' | 'random' | 'secretKey'>;

const ALGS = ['RS256', 'ES256'] as const;
type Alg = (typeof ALGS)[number];

/** How long a retired key stays in the JWKS: the ID- and access-token lifetime (1 h) plus a day. */
export const KEY_RETENTION_MS = 25 * 3600_000;

function generate(alg: Alg): { privateJwk: JsonWebKey; publicJwk: JsonWebKey } {
  const pair = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateJwk: pair.privateKey.export({ format: 'jwk' }), publicJwk: pair.publicKey.export({ format: 'jwk' }) };
}

/**
 * Adds generation `generation` (both algorithms, one statement) unless its kids exist already: two nodes
 * starting at once, or two rotations, insert the same kids; the first wins, the other's keys are dropped.
 */
async function insertGeneration(ctx: KeysContext, generation: number): Promise<void> {
  const sealer = new Sealer(ctx.secretKey, ctx.random, 'oidc-keys');
  const now = iso(ctx.clock.now());
  const rows = ALGS.map((alg) => {
    const kid = `${alg.toLowerCase()}-${generation}`;
    const { privateJwk, publicJwk } = generate(alg);
    const meta = { kid, alg, use: 'sig' };
    return { kid, alg, sealed_jwk: sealer.seal(JSON.stringify({ ...privateJwk, ...meta })), public_jwk: JSON.stringify({ ...publicJwk, ...meta }), created_at: now, retired_at: null };
  });
  await ctx.store.db.insertInto('oidc_keys').values(rows).onConflict((oc) => oc.column('kid').doNothing()).execute();
}

/** The newest generation, and whether it is live (not retired). */
async function latestGeneration(ctx: KeysContext): Promise<{ generation: number; live: boolean }> {
  const rows = await ctx.store.db.selectFrom('oidc_keys').select(['kid', 'retired_at']).execute();
  const generationOf = (kid: string) => Number(kid.split('-')[1]) || 0;
  const generation = Math.max(0, ...rows.map((r) => generationOf(r.kid)));
  return { generation, live: rows.some((r) => generationOf(r.kid) === generation && r.retired_at === null) };
}

/** At first start: the first generation of keys, once, however many nodes start together. */
export async function ensureSigningKeys(ctx: KeysContext): Promise<void> {
  const latest = await latestGeneration(ctx);
  if (!latest.live) await insertGeneration(ctx, latest.generation + 1);
}

/** `latchkey keys rotate`: the next generation signs from the next start on; the current one is retired. */
export async function rotateSigningKeys(ctx: KeysContext): Promise<string[]> {
  const { generation } = await latestGeneration(ctx);
  const now = iso(ctx.clock.now());
  await ctx.store.db.updateTable('oidc_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
  await insertGeneration(ctx, generation + 1);
  return ALGS.map((alg) => `${alg.toLowerCase()}-${generation + 1}`);
}

/**
 * The private JWKs for the provider: the live keys first (RS256 before ES256, newest first), so they sign;
 * then the retired keys still within their retention, published for verification only.
 */
export async function loadSigningKeys(ctx: KeysContext): Promise<JsonWebKey[]> {
  const sealer = new Sealer(ctx.secretKey, ctx.random, 'oidc-keys');
  const oldest = iso(new Date(ctx.clock.now().getTime() - KEY_RETENTION_MS));
  const rows = await ctx.store.db
    .selectFrom('oidc_keys')
    .select(['sealed_jwk', 'alg', 'created_at', 'retired_at'])
    .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', oldest)]))
    .execute();
  const rank = (r: (typeof rows)[number]) => (r.retired_at === null ? 0 : 2) + (r.alg === 'RS256' ? 0 : 1);
  rows.sort((a, b) => rank(a) - rank(b) || b.created_at.localeCompare(a.created_at));
  return rows.map((r) => JSON.parse(sealer.open(r.sealed_jwk)) as JsonWebKey);
}
