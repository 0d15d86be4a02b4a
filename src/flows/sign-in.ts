import { parseIdentifier } from '../domain/identifiers.js';
import { limits } from '../domain/limits.js';
import { normalizePassword } from '../domain/password-policy.js';
import { AppError } from '../kernel/errors.js';
import { findAccountByIdentifier } from '../store/accounts.repo.js';
import type { FlowContext, RequestMeta } from './context.js';
import { enforce } from './limits.js';
import { accountView, openSession, type AccountView, type OpenedSession } from './session.js';

export interface SignInResult extends AccountView {
  session: OpenedSession;
}

/**
 * Sign-in by login, e-mail or phone (seed C1). Unknown accounts, accounts without a password and
 * inactive accounts cost one argon2 verification too and answer the same `invalid_credentials`.
 */
export async function signIn(ctx: FlowContext, input: { login: string; password: string }, meta: RequestMeta): Promise<SignInResult> {
  const identifier = parseIdentifier(input.login, ctx.settings.smsDefaultRegion);
  await enforce(ctx, [
    ['signin:ip', meta.ip, limits.signInPerIp],
    ['signin:account', identifier.key, limits.signInPerAccount],
  ]);
  const account = await findAccountByIdentifier(ctx.store.db, identifier);
  const password = normalizePassword(input.password);
  const ok =
    account?.password_hash && account.status === 'active'
      ? await ctx.hasher.verify(account.password_hash, password)
      : await ctx.hasher.verifyDummy(password);
  if (!ok || !account) throw new AppError('invalid_credentials');
  const session = await openSession(ctx, ctx.store.db, account.id, meta);
  return { ...(await accountView(ctx.store.db, account)), session };
}
