import { sql, type Kysely } from 'kysely';

/**
 * Issue 10, item 9: passports made by a social sign-in once copied the provider's e-mail and phone even when the
 * provider did not vouch for them, so an address nobody proved could block its real owner. Such contacts are
 * taken off the passport (the identity row keeps the provider's e-mail); verified ones stay.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    update accounts set email = null, email_key = null
    where email_verified_at is null and email is not null
      and exists (select 1 from social_identities s where s.account_id = accounts.id and s.email = accounts.email)`.execute(db);
  await sql`
    update accounts set phone = null
    where phone_verified_at is null and phone is not null
      and exists (select 1 from social_identities s where s.account_id = accounts.id and s.created_at = accounts.created_at)`.execute(db);
}
