import { isMixedScript, isValidLogin, loginKey, loginSkeleton } from '../domain/identifiers.js';
import { limits } from '../domain/limits.js';
import { iso } from '../kernel/clock.js';
import { AppError } from '../kernel/errors.js';
import { findAccountById, findAccountByIdentifier, lockAccount, setLogin } from '../store/accounts.repo.js';
import { recordAudit } from './audit.js';
import type { Account } from '../store/schema.js';
import type { FlowContext, RequestMeta } from './context.js';
import { enforce } from './limits.js';
import { applyPasswordChange, hashNewPassword } from './password-change.js';

/**
 * The seed's "how to create a login and password when you signed in through a social network": a
 * signed-in account without a password chooses a login (its generated one by default) and a password.
 * Accounts that have a password change it with the current one instead (change-password.ts).
 */
export async function createLoginAndPassword(
  ctx: FlowContext,
  input: { account: Account; sessionHash: string; login?: string | undefined; newPassword: string },
  meta: RequestMeta,
): Promise<void> {
  await enforce(ctx, [['password:account', input.account.id, limits.changePasswordPerAccount]]);
  if (input.account.password_hash !== null) throw new AppError('invalid_request', { field: 'currentPassword' }, 'the account has a password: change it instead');
  const wanted = input.login?.normalize('NFKC').trim() || input.account.login;
  if (!isValidLogin(wanted)) throw new AppError('invalid_request', { field: 'login' }, 'not a valid login');
  const renaming = loginKey(wanted) !== input.account.login_key;
  if (renaming) {
    // Each try tells whether a login is free: a hard cap per account and per client keeps that from being a
    // directory of who is here (issue 10, item 11), and taken or confusable logins get one answer.
    await enforce(ctx, [
      ['login-choice:account', input.account.id, limits.loginChoicePerAccount],
      ['login-choice:ip', meta.ip, limits.loginChoicePerIp],
    ]);
    if (!(await isLoginAvailable(ctx, wanted))) throw new AppError('login_unavailable', { field: 'login' });
  }
  const hash = await hashNewPassword(ctx, input.newPassword, { ...input.account, login: wanted });
  try {
    await ctx.store.db.transaction().execute(async (tx) => {
      await lockAccount(tx, ctx.store.dialect, input.account.id);
      const account = await findAccountById(tx, input.account.id);
      // Someone (another tab) set one meanwhile: theirs stands.
      if (!account || account.password_hash !== null) throw new AppError('invalid_request', { field: 'currentPassword' }, 'a password was set meanwhile');
      const at = iso(ctx.clock.now());
      if (renaming) {
        await setLogin(tx, account.id, wanted, at);
        await recordAudit(ctx, tx, { action: 'login.changed', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, ip: meta.ip });
      }
      // Kills outstanding tokens (a login change is a contact change, SPEC §7 rule 5), keeps this session, sends the notice.
      await applyPasswordChange(ctx, tx, { account: { ...account, login: wanted }, hash, actorKind: 'self', actorAccountId: account.id, ip: meta.ip, keepSessionHash: input.sessionHash });
    });
  } catch (error) {
    // The login was free a moment ago and taken since: the unique key refused it.
    if (renaming && !(error instanceof AppError) && !(await isLoginAvailable(ctx, wanted))) {
      throw new AppError('login_unavailable', { field: 'login' });
    }
    throw error;
  }
  ctx.outbox.kick();
}

/** Free, in one script, and not passing for a taken Latin login through look-alike letters. */
async function isLoginAvailable(ctx: Pick<FlowContext, 'store'>, login: string): Promise<boolean> {
  if (isMixedScript(login)) return false;
  const keys = new Set([loginKey(login), loginSkeleton(login)]);
  for (const key of keys) if (await findAccountByIdentifier(ctx.store.db, { kind: 'login', key })) return false;
  return true;
}
