import { iso } from '../kernel/clock.js';
import { isBitrixHash } from '../kernel/legacy-hashes.js';
import { replacePasswordHash } from '../store/accounts.repo.js';
import type { Account } from '../store/schema.js';
import { recordAudit } from './audit.js';
import type { FlowContext } from './context.js';

/**
 * After a password was verified against an imported Bitrix hash (`latchkey import bitrix`), stores the same
 * password as argon2id instead, once: the legacy hash goes at the first successful sign-in. The password is
 * not held to today's policy (it is the person's current one, not a new choice); it is not a change either,
 * so sessions, tokens and `password_changed_at` stay as they are.
 */
export async function upgradeLegacyHash(ctx: Pick<FlowContext, 'store' | 'hasher' | 'clock' | 'random'>, account: Account, password: string): Promise<void> {
  const legacy = account.password_hash;
  if (legacy === null || !isBitrixHash(legacy)) return;
  const hash = await ctx.hasher.hash(password);
  await ctx.store.db.transaction().execute(async (tx) => {
    // A password changed meanwhile (recovery in another tab) wins; then there is nothing to upgrade.
    if (!(await replacePasswordHash(tx, account.id, legacy, hash, iso(ctx.clock.now())))) return;
    await recordAudit(ctx, tx, { action: 'password.rehashed', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, detail: 'bitrix' });
  });
}
