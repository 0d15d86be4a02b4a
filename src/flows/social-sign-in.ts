import { emailKey, isValidEmail, loginKey, normalizePhone } from '../domain/identifiers.js';
import { limits } from '../domain/limits.js';
import type { Locale } from '../domain/locale.js';
import { iso } from '../kernel/clock.js';
import { Sealer, newId, safeEqual } from '../kernel/crypto.js';
import { findAccountById, findAccountByIdentifier, findFreeLogin, insertAccount } from '../store/accounts.repo.js';
import { recordAudit } from './audit.js';
import type { Executor } from '../store/db.js';
import { findSocialIdentity, insertSocialIdentity, touchSocialIdentity } from '../store/social-identities.repo.js';
import type { Account, SocialIdentity } from '../store/schema.js';
import { SocialError, type AttemptSecrets, type SocialProfile, type SocialProvider } from '../social/provider.js';
import type { FlowContext, RequestMeta } from './context.js';
import { enforce } from './limits.js';
import { finishSignIn, outcomeOf, type SignInOutcome } from './finish-sign-in.js';

/** How long a person may spend at the provider between leaving and coming back. */
export const SOCIAL_ATTEMPT_MINUTES = 10;

/** What waits, sealed, in the browser between the start and the callback (nothing of it is stored server-side). */
interface Attempt extends Omit<AttemptSecrets, 'redirectUri'> {
  provider: string;
  mode: 'sign_in' | 'link';
  /** The signed-in account that asked to link (mode `link`). */
  accountId?: string;
  startedAt: number;
}

export type SocialMode = Attempt['mode'];

export function callbackUrlOf(ctx: Pick<FlowContext, 'settings'>, provider: SocialProvider): string {
  return new URL(`/auth/${provider.id}/callback`, ctx.settings.publicUrl).toString();
}

const attemptSealer = (ctx: Pick<FlowContext, 'secretKey' | 'random'>) => new Sealer(ctx.secretKey, ctx.random, 'social-attempt');

/**
 * Starts a sign-in (or, for a signed-in person, a link) with a provider: fresh `state`, `nonce` and PKCE
 * verifier from the CSPRNG, sealed into the value the browser keeps until the callback.
 */
export async function startSocial(
  ctx: Pick<FlowContext, 'clock' | 'random' | 'secretKey' | 'settings'>,
  provider: SocialProvider,
  input: { mode: SocialMode; accountId?: string },
): Promise<{ redirectTo: URL; sealedAttempt: string }> {
  const secret = () => ctx.random.bytes(32).toString('base64url');
  const attempt: Attempt = {
    provider: provider.id,
    mode: input.mode,
    ...(input.accountId ? { accountId: input.accountId } : {}),
    state: secret(),
    nonce: secret(),
    codeVerifier: secret(),
    startedAt: ctx.clock.now().getTime(),
  };
  const redirectTo = await provider.authorizationUrl({ ...attempt, redirectUri: callbackUrlOf(ctx, provider) });
  return { redirectTo, sealedAttempt: attemptSealer(ctx).seal(JSON.stringify(attempt)) };
}

export type SocialOutcome =
  | { kind: 'signed_in'; account: Account; outcome: SignInOutcome; created: boolean }
  | { kind: 'linked'; account: Account };

/**
 * The provider sent the person back (seed C6). Checks the attempt (ours, this provider, not expired, same
 * `state`), lets the provider adapter exchange the code, then finds the identity by issuer + subject only:
 * a known one signs in, an unknown one becomes a new passport (sign-in) or joins the signed-in account (link).
 */
export async function finishSocial(
  ctx: FlowContext,
  provider: SocialProvider,
  input: { sealedAttempt: string | undefined; callbackUrl: URL; signedInAccountId: string | undefined; lang: Locale },
  meta: RequestMeta,
): Promise<SocialOutcome> {
  await enforce(ctx, [['social:ip', meta.ip, limits.socialPerIp]]);
  const attempt = openAttempt(ctx, input.sealedAttempt);
  if (!attempt || attempt.provider !== provider.id) throw new SocialError('expired', attempt ? 'attempt for another provider' : 'no attempt');
  if (ctx.clock.now().getTime() - attempt.startedAt > SOCIAL_ATTEMPT_MINUTES * 60_000) throw new SocialError('expired', 'attempt too old');
  // A refusal (cancelled consent) comes back with our state but without a code; look at it first.
  const returnedState = input.callbackUrl.searchParams.get('state') ?? '';
  if (input.callbackUrl.searchParams.get('error') === null && !safeEqual(returnedState, attempt.state)) {
    throw new SocialError('state_mismatch');
  }
  if (attempt.mode === 'link' && attempt.accountId !== input.signedInAccountId) throw new SocialError('expired', 'signed out or in as someone else since the link started');

  const profile = await provider.finish(input.callbackUrl, { ...attempt, redirectUri: callbackUrlOf(ctx, provider) });
  if (!profile.subject || !profile.issuer) throw new SocialError('no_subject');
  const known = await findSocialIdentity(ctx.store.db, profile.issuer, profile.subject);

  if (attempt.mode === 'link') {
    const account = attempt.accountId ? await findAccountById(ctx.store.db, attempt.accountId) : undefined;
    if (!account || account.status !== 'active') throw new SocialError('expired', 'account gone');
    if (known && known.account_id !== account.id) throw new SocialError('identity_taken');
    if (!known) {
      await ctx.store.db.transaction().execute(async (tx) => {
        await insertSocialIdentity(tx, newIdentity(ctx, account.id, provider, profile));
        await auditSelf(ctx, tx, account.id, 'social.linked', provider.id, meta);
      });
    }
    return { kind: 'linked', account };
  }

  if (known) return signInWith(ctx, known, provider, meta, false);
  let identity: SocialIdentity;
  try {
    identity = await createPassport(ctx, provider, profile, input.lang, meta);
  } catch (error) {
    // Two callbacks for one new identity at once: the other one created it, sign in with theirs.
    const raced = await findSocialIdentity(ctx.store.db, profile.issuer, profile.subject);
    if (!raced || error instanceof SocialError) throw error;
    return signInWith(ctx, raced, provider, meta, false);
  }
  return signInWith(ctx, identity, provider, meta, true);
}

function openAttempt(ctx: Pick<FlowContext, 'secretKey' | 'random'>, sealed: string | undefined): Attempt | undefined {
  if (!sealed || sealed.length > 2000) return undefined;
  try {
    const value = JSON.parse(attemptSealer(ctx).open(sealed)) as Attempt;
    return typeof value.state === 'string' && typeof value.codeVerifier === 'string' ? value : undefined;
  } catch {
    // Tampered, or sealed under another secret: no attempt of ours.
    return undefined;
  }
}

async function signInWith(ctx: FlowContext, identity: SocialIdentity, provider: SocialProvider, meta: RequestMeta, created: boolean): Promise<SocialOutcome> {
  const account = await findAccountById(ctx.store.db, identity.account_id);
  if (!account || account.status !== 'active') throw new SocialError('account_inactive');
  const at = iso(ctx.clock.now());
  const step = await ctx.store.db.transaction().execute(async (tx) => {
    await touchSocialIdentity(tx, identity.id, at);
    await auditSelf(ctx, tx, account.id, 'social.signed_in', provider.id, meta);
    return finishSignIn(ctx, tx, { account, firstFactor: `social:${provider.id}`, meta });
  });
  return { kind: 'signed_in', account, outcome: await outcomeOf(ctx, account, step), created };
}

/**
 * A first sign-in with an unknown identity makes a passport without a password. Only the contacts the
 * provider asserts are copied to the passport, verified; an unproven one stays on the identity row alone,
 * so nobody can squat another person's address through a provider that does not check it (issue 10, item 9).
 * A verified e-mail that is already another passport's is refused (that person should sign in and link);
 * a verified phone that is taken is simply not copied, so the answer tells nobody whose contact it is.
 */
async function createPassport(ctx: FlowContext, provider: SocialProvider, profile: SocialProfile, lang: Locale, meta: RequestMeta): Promise<SocialIdentity> {
  const now = ctx.clock.now();
  const at = iso(now);
  const email = profile.emailVerified && profile.email && isValidEmail(profile.email) ? profile.email.normalize('NFKC').trim() : undefined;
  const phone = profile.phoneVerified && profile.phone ? normalizePhone(profile.phone, ctx.settings.smsDefaultRegion) : undefined;
  return ctx.store.db.transaction().execute(async (tx) => {
    const emailOwner = email ? await findAccountByIdentifier(tx, { kind: 'email', key: emailKey(email) }) : undefined;
    if (emailOwner) throw new SocialError('email_taken');
    const keepEmail = email !== undefined;
    const keepPhone = phone !== undefined && !(await findAccountByIdentifier(tx, { kind: 'phone', key: phone }));
    const accountId = newId(ctx.random);
    const login = await findFreeLogin(tx, keepEmail ? (email.split('@')[0] ?? provider.id) : `${provider.id}-${ctx.random.bytes(3).toString('hex')}`);
    await insertAccount(tx, {
      id: accountId,
      login,
      login_key: loginKey(login),
      name: profile.name?.slice(0, 200) ?? null,
      email: keepEmail ? email : null,
      email_key: keepEmail ? emailKey(email) : null,
      email_verified_at: keepEmail ? at : null,
      phone: keepPhone ? phone : null,
      phone_verified_at: keepPhone ? at : null,
      password_hash: null,
      password_changed_at: null,
      status: 'active',
      locale: lang,
      created_at: at,
      updated_at: at,
    });
    const identity = newIdentity(ctx, accountId, provider, profile);
    await insertSocialIdentity(tx, identity);
    await auditSelf(ctx, tx, accountId, 'account.created', `social:${provider.id}`, meta);
    return identity;
  });
}

function newIdentity(ctx: Pick<FlowContext, 'clock' | 'random'>, accountId: string, provider: SocialProvider, profile: SocialProfile): SocialIdentity {
  const at = iso(ctx.clock.now());
  return {
    id: newId(ctx.random),
    account_id: accountId,
    provider: provider.id,
    issuer: profile.issuer,
    subject: profile.subject,
    email: profile.email?.slice(0, 254) ?? null,
    created_at: at,
    last_used_at: at,
  };
}

/** A person's own sign-in event, audited as `self`. */
function auditSelf(ctx: Pick<FlowContext, 'clock' | 'random'>, tx: Executor, accountId: string, action: string, detail: string, meta: RequestMeta): Promise<void> {
  return recordAudit(ctx, tx, { action, actorKind: 'self', actorAccountId: accountId, targetAccountId: accountId, ip: meta.ip, detail });
}
