import { AppError } from '../kernel/errors.js';
import { findAccountById, lockAccount } from '../store/accounts.repo.js';
import { recordAudit } from './audit.js';
import type { Executor } from '../store/db.js';
import type { Account } from '../store/schema.js';
import { deleteSocialIdentity, listSocialIdentities } from '../store/social-identities.repo.js';
import type { SocialProviders } from '../social/index.js';
import type { FlowContext, RequestMeta } from './context.js';

export interface LinkedIdentity {
  id: string;
  provider: string;
  /** The provider's title, or its id when the provider is no longer configured. */
  title: string;
  email: string | null;
  linkedAt: string;
  lastUsedAt: string | null;
}

export interface SignInMethods {
  password: boolean;
  identities: LinkedIdentity[];
  /** Enabled providers this account has no identity with yet (offered as "link"). */
  linkable: Array<{ id: string; title: string }>;
}

/** `/account`: how this person can sign in (password, social identities) and what they could add. */
export async function listSignInMethods(db: Executor, providers: SocialProviders, account: Account): Promise<SignInMethods> {
  const rows = await listSocialIdentities(db, account.id);
  const identities = rows.map((row) => ({
    id: row.id,
    provider: row.provider,
    title: providers.get(row.provider)?.title ?? row.provider,
    email: row.email,
    linkedAt: row.created_at,
    lastUsedAt: row.last_used_at,
  }));
  const linked = new Set(rows.map((row) => row.provider));
  const linkable = [...providers.values()].filter((p) => !linked.has(p.id)).map((p) => ({ id: p.id, title: p.title }));
  return { password: account.password_hash !== null, identities, linkable };
}

/**
 * Unlinks a social identity from the signed-in account. The last way in (no password and no other
 * identity) is refused; the account row is locked meanwhile so two unlinks at once cannot both pass.
 */
export async function unlinkSocialIdentity(
  ctx: FlowContext,
  input: { accountId: string; identityId: string; actorKind?: 'self' | 'operator' },
  meta: RequestMeta | undefined,
): Promise<void> {
  const operator = input.actorKind === 'operator';
  await ctx.store.db.transaction().execute(async (tx) => {
    await lockAccount(tx, ctx.store.dialect, input.accountId);
    const account = await findAccountById(tx, input.accountId);
    if (!account) throw new AppError('not_found');
    const identities = await listSocialIdentities(tx, account.id);
    const target = identities.find((row) => row.id === input.identityId);
    if (!target) throw new AppError('not_found');
    if (account.password_hash === null && identities.length === 1) throw new AppError('last_sign_in_method');
    await deleteSocialIdentity(tx, account.id, target.id);
    await recordAudit(ctx, tx, {
      action: 'social.unlinked',
      actorKind: operator ? 'operator' : 'self',
      actorAccountId: operator ? null : account.id,
      targetAccountId: account.id,
      ip: meta?.ip,
      detail: target.provider,
    });
  });
}
