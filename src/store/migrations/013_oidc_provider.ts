import type { Kysely } from 'kysely';

/**
 * The OpenID Connect provider (SPEC §10): every model of oidc-provider (sessions, grants, codes, tokens,
 * interactions) in one table keyed (name, id); the portals' clients, their secrets sealed; the signing
 * keys, private halves sealed, retired keys kept published until their tokens have expired.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_models')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('user_code', 'text')
    .addColumn('uid', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('consumed_at', 'text')
    .addPrimaryKeyConstraint('oidc_models_pk', ['name', 'id'])
    .execute();
  await db.schema.createIndex('oidc_models_grant_id').on('oidc_models').columns(['grant_id']).execute();
  await db.schema.createIndex('oidc_models_uid').on('oidc_models').columns(['uid']).execute();
  await db.schema.createIndex('oidc_models_user_code').on('oidc_models').columns(['user_code']).execute();
  await db.schema.createIndex('oidc_models_expires_at').on('oidc_models').columns(['expires_at']).execute();

  await db.schema
    .createTable('oidc_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('portal_id', 'text', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('sealed_secret', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('oidc_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('sealed_jwk', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .execute();
}
