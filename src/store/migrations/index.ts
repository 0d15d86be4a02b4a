import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect, Store } from '../db.js';
import * as m001 from './001_initial.js';
import * as m002 from './002_phone_flows.js';
import * as m003 from './003_admin_and_box.js';
import * as m004 from './004_outbox_sms_count.js';
import * as m005 from './005_social_identities.js';
import * as m006 from './006_invitations.js';
import * as m007 from './007_phone_flows_account.js';
import * as m009 from './009_unsquat_social_contacts.js';
import * as m010 from './010_instance.js';
import * as m011 from './011_second_factor.js';
import * as m013 from './013_oidc_provider.js';
import * as m014 from './014_session_last_seen.js';
import * as m015 from './015_second_factor_admin.js';
import * as m016 from './016_oidc_session_clients.js';
import * as m017 from './017_contact_changes.js';
import * as m018 from './018_not_me_tokens.js';
import * as m020 from './020_portal_color.js';
import * as m021 from './021_failures_reset.js';
import * as m022 from './022_outbox_claim_indexes.js';

/** The explicit, ordered list of migrations; each is given the dialect, one set for both databases. */
const migrations: Record<string, { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> }> = {
  '001_initial': m001,
  '002_phone_flows': m002,
  '003_admin_and_box': m003,
  '004_outbox_sms_count': m004,
  '005_social_identities': m005,
  '006_invitations': m006,
  '007_phone_flows_account': m007,
  '009_unsquat_social_contacts': m009,
  '010_instance': m010,
  '011_second_factor': m011,
  '013_oidc_provider': m013,
  '014_session_last_seen': m014,
  '015_second_factor_admin': m015,
  '016_oidc_session_clients': m016,
  '017_contact_changes': m017,
  '018_not_me_tokens': m018,
  '020_portal_color': m020,
  '021_failures_reset': m021,
  '022_outbox_claim_indexes': m022,
};

export async function migrateToLatest(store: Store): Promise<string[]> {
  const provider: MigrationProvider = {
    getMigrations: async () =>
      Object.fromEntries(
        Object.entries(migrations).map(([name, m]): [string, Migration] => [name, { up: (db) => m.up(db, store.dialect) }]),
      ),
  };
  const migrator = new Migrator({ db: store.db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
