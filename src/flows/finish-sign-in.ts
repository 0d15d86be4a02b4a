import { addMs, iso } from '../kernel/clock.js';
import { newSecretToken, sha256 } from '../kernel/crypto.js';
import type { Executor } from '../store/db.js';
import type { Account } from '../store/schema.js';
import { findAccountByIdForSignIn, type AccountForSignIn } from '../store/accounts.repo.js';
import { insertChallenge } from '../store/second-factor.repo.js';
import { writeTogether } from '../store/write-batch.js';
import { recordAudit } from './audit.js';
import type { FlowContext, RequestMeta } from './context.js';
import { endSessions } from './end-sessions.js';
import { applyPasswordChange } from './password-change.js';
import { accountView, openSession, readAccountView, type AccountView, type OpenedSession } from './session.js';

/** A pending challenge lives 10 minutes (SPEC §7 rule 17) and ends after 5 wrong codes (rule 16). */
export const CHALLENGE_MINUTES = 10;
export const CHALLENGE_MAX_ATTEMPTS = 5;
export const SECOND_FACTOR_METHODS = ['totp', 'recovery_code'] as const;

/** The first factor that was passed: a password, a social network, or one of the recovery tokens. */
export type FirstFactor = 'password' | `social:${string}` | 'email_link' | 'phone_reset' | 'admin_link' | 'invitation' | 'checkword' | 'unlock';

export interface PendingChallenge {
  /** The handle the browser keeps in the `lk_pending` cookie; only its sha256 is stored. */
  token: string;
  expiresAt: Date;
}

/** Where a sign-in stands once a first factor (and, when owed, the second one) passed. */
export type SignInStep = { kind: 'session'; session: OpenedSession } | { kind: 'second_factor'; challenge: PendingChallenge };

/** What a sign-in flow returns: a session with the person's view, or a challenge that names nobody. */
export type SignInOutcome = ({ kind: 'session'; session: OpenedSession } & AccountView) | { kind: 'second_factor'; challenge: PendingChallenge };

export interface FinishSignInInput {
  /** With its sign-in facts when the caller read them along with it (one statement fewer here). */
  account: Account | AccountForSignIn;
  firstFactor: FirstFactor;
  meta: RequestMeta;
  /** Set only by the challenge step, once it verified the second factor itself. */
  secondFactorPassed?: 'totp' | 'recovery_code';
}

/**
 * The one way every sign-in ends (issue 11, item 1), inside the caller's transaction and the only caller
 * of `openSession`: an account with an active second factor gets a pending challenge instead of a session
 * (SPEC §7 rule 17), whatever the first factor was. A new way to sign in adds a `FirstFactor`, nothing else.
 * When the account comes with its facts, this only writes, so `tx` may be a write batch (store/write-batch.ts).
 */
export async function finishSignIn(ctx: Pick<FlowContext, 'clock' | 'random' | 'settings' | 'outbox'>, tx: Executor, input: FinishSignInInput): Promise<SignInStep> {
  const { meta } = input;
  // Without its facts the account is read again here, as it stands in this transaction.
  const account = 'signIn' in input.account ? input.account : await findAccountByIdForSignIn(tx, input.account.id, iso(ctx.clock.now()));
  if (!account) throw new Error(`finishSignIn: account ${input.account.id} is gone`);
  const facts = account.signIn;
  const { suspendedForPortalId, hadSession } = facts;
  if (!input.secondFactorPassed && suspendedForPortalId !== null) {
    // A portal admin paused the factor (lost phone, issue 11 item 5): the first factor is enough, but the
    // session enters only that portal, until the person enrols a new factor or the pause runs out.
    await recordAudit(ctx, tx, { action: 'signin.second_factor_suspended', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, portalId: suspendedForPortalId, ip: meta.ip, detail: input.firstFactor });
    return { kind: 'session', session: await openSession(ctx, tx, account, meta, { onlyPortalId: suspendedForPortalId, hadSession }) };
  }
  if (!input.secondFactorPassed && facts.hasSecondFactor) {
    const now = ctx.clock.now();
    const token = newSecretToken(ctx.random);
    const expiresAt = addMs(now, CHALLENGE_MINUTES * 60_000);
    await insertChallenge(tx, { id_hash: sha256(token), account_id: account.id, first_factor: input.firstFactor, created_at: iso(now), expires_at: iso(expiresAt), ip: meta.ip, return_to: null });
    await recordAudit(ctx, tx, { action: 'signin.second_factor_asked', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, ip: meta.ip, detail: input.firstFactor });
    return { kind: 'second_factor', challenge: { token, expiresAt } };
  }
  return { kind: 'session', session: await openSession(ctx, tx, account, meta, { hadSession }) };
}

/**
 * The step with what the API shows about the signed-in person: its portals as read with its sign-in facts
 * (they are part of that one read), else read after the transaction committed.
 */
export async function outcomeOf(ctx: Pick<FlowContext, 'store'>, account: Account | AccountForSignIn, step: SignInStep): Promise<SignInOutcome> {
  if (step.kind === 'second_factor') return step;
  const view = 'signIn' in account ? accountView(account, account.signIn.portals) : await readAccountView(ctx.store.db, account);
  return { kind: 'session', session: step.session, ...view };
}

export interface NewPasswordSignIn {
  account: Account;
  /** The account as `consume` leaves it, with its sign-in facts, when the caller knows it (else read again). */
  afterConsume?: AccountForSignIn;
  /** The argon2id hash of the new password, made before the transaction. */
  hash: string;
  firstFactor: FirstFactor;
  meta: RequestMeta;
  /** Uses the token or checkword up, inside the transaction; throws when it is no longer live. */
  consume: (tx: Executor, at: string) => Promise<void>;
}

/**
 * The ending every recovery shares (e-mail link, SMS code, admin link, invitation, box checkword): consume
 * the token, set the password (sessions revoked, notice queued), then the one sign-in path, all in one
 * transaction. The password is changed even when the second factor is still owed (SPEC §5 `202`). After the
 * consume only writes are left: they go as one statement (store/write-batch.ts).
 */
export async function signInWithNewPassword(ctx: FlowContext, input: NewPasswordSignIn): Promise<SignInOutcome> {
  const { account, meta } = input;
  const signedIn = await ctx.store.db.transaction().execute(async (tx) => {
    const at = iso(ctx.clock.now());
    await input.consume(tx, at);
    const signingIn = input.afterConsume ?? (await findAccountByIdForSignIn(tx, account.id, at));
    if (!signingIn) throw new Error(`signInWithNewPassword: account ${account.id} is gone`);
    const step = await writeTogether(ctx.store, tx, async (writes) => {
      // Every session ends, with its applications: what it reads (the applications to tell) is read now, in
      // the transaction; its writes go in the batch, before the new session's (which they do not end).
      await endSessions(ctx, tx, account.id, { kind: 'all' }, writes);
      await applyPasswordChange(ctx, writes, { account, hash: input.hash, actorKind: 'recovery', actorAccountId: account.id, ip: meta.ip, sessionsEnded: true });
      return finishSignIn(ctx, writes, { account: signingIn, firstFactor: input.firstFactor, meta });
    });
    return { step, signingIn };
  });
  ctx.outbox.kick();
  // As it stands after `consume` (an invitation's first password made a membership: its portal is listed).
  return outcomeOf(ctx, signedIn.signingIn, signedIn.step);
}
