import { emailKey, isValidEmail, normalizePhone } from '../domain/identifiers.js';
import { limits } from '../domain/limits.js';
import { normalizePassword } from '../domain/password-policy.js';
import { addMs, iso } from '../kernel/clock.js';
import { hmac, newSecretToken, safeEqual, sha256 } from '../kernel/crypto.js';
import { AppError, isAppError } from '../kernel/errors.js';
import { findAccountById, findAccountByIdentifier } from '../store/accounts.repo.js';
import {
  MAX_CHANGE_ATTEMPTS,
  cancelContactChange,
  cancelContactChanges,
  countChangeAttempt,
  findLiveContactChange,
  findPendingContactChange,
  insertContactChange,
  markContactChangeLanded,
  setAccountContact,
  type ContactChange,
  type ContactKind,
} from '../store/contact-changes.repo.js';
import type { Executor } from '../store/db.js';
import { closeOpenFlowsOfAccount } from '../store/phone-flows.repo.js';
import type { Account } from '../store/schema.js';
import { contactChangeNoticeLetter, contactChangeNoticeSms, emailChangeLetter, maskContact, phoneChangeSms } from '../ui/contact-change-letters.js';
import { recordAudit } from './audit.js';
import type { FlowContext, RequestMeta } from './context.js';
import { assertBudgetsLeft, countFailure, enforce } from './limits.js';
import { notMeLink } from './not-me.js';
import { guardText, sendText, sendTextOrThrow } from './text-guard.js';
import { killAccountSecrets } from './tokens.js';

/**
 * A person changes their own e-mail or phone (SPEC §11, issue 13 item 2). The password first; then a link
 * (e-mail) or a code (phone, through the one SMS guard) goes to the **new** contact, and a notice to the old
 * one. Nothing on the account changes until the new contact is proved; then it is stored verified, every
 * outstanding recovery token and open phone flow dies (rule 5), and so does any other pending change of
 * that kind. Whether the new contact belongs to another passport is not looked at before landing, so the
 * answer and the work are the same for a taken and a free one (rule 6); landing on a taken one is refused.
 */

/** What the browser or API client keeps of a phone change: its handle (only its sha256 is stored). */
export interface PhoneChangeState {
  flow: string;
  /** Seconds the code stays valid. */
  expiresIn: number;
}

type Budget = [bucket: string, key: string, limit: (typeof limits)[keyof typeof limits]];

/** The password again; wrong ones count against the account's budget shared with the password change (rule 8). */
async function assertPassword(ctx: FlowContext, account: Account, password: string): Promise<void> {
  const budgets: Budget[] = [['password:account', account.id, limits.changePasswordPerAccount]];
  await assertBudgetsLeft(ctx, budgets);
  const normalized = normalizePassword(password);
  const ok = account.password_hash ? await ctx.hasher.verify(account.password_hash, normalized) : await ctx.hasher.verifyDummy(normalized);
  if (!ok) throw (await countFailure(ctx, budgets)) ?? new AppError('invalid_credentials', {}, 'password mismatch on a contact change');
}

async function enforceRequestLimits(ctx: FlowContext, account: Account, meta: RequestMeta): Promise<void> {
  await enforce(ctx, [
    ['contact-change:account', account.id, limits.contactChangePerAccount],
    ['contact-change:ip', meta.ip, limits.contactChangePerIp],
  ]);
}

const codeHash = (ctx: Pick<FlowContext, 'secretKey'>, idHash: string, code: string) => hmac(ctx.secretKey, `contact-code:${idHash}:${code}`);

/**
 * The notice to the old contact at request time (SPEC §6: sent to the **old** address): a letter to the
 * verified e-mail, or, with none, a short text to the verified phone. A phone change also texts the old
 * verified number. Each carries its own "this wasn't me" link (SPEC §6), tied to the contact it went to.
 */
async function noticeOldContact(ctx: FlowContext, tx: Executor, account: Account, kind: ContactKind, newValue: string, meta: RequestMeta): Promise<void> {
  const now = ctx.clock.now();
  const hasEmail = account.email !== null && account.email_verified_at !== null;
  const hasPhone = account.phone !== null && account.phone_verified_at !== null;
  if (hasEmail && account.email) {
    const letter = contactChangeNoticeLetter(account.locale, {
      login: account.login,
      kind,
      newContact: maskContact(kind, newValue),
      userAgent: meta.userAgent ?? null,
      ip: meta.ip,
      when: now,
      accountUrl: new URL('/account', ctx.settings.publicUrl).toString(),
      notMeUrl: await notMeLink(ctx, tx, { accountId: account.id, channel: 'email', contact: account.email, notice: `${kind}.change.notice` }),
    });
    await ctx.outbox.enqueueEmail(tx, `${kind}.change.notice`, { to: account.email, ...letter });
  }
  if (hasPhone && account.phone && ctx.settings.smsEnabled && (kind === 'phone' || !hasEmail)) {
    // A notice, not a secret: a refusal by the guard (country, budget) just leaves it unsent.
    const notMeUrl = await notMeLink(ctx, tx, { accountId: account.id, channel: 'phone', contact: account.phone, notice: `${kind}.change.notice` });
    await sendText(ctx, tx, { kind: `${kind}.change.notice`, to: account.phone, text: contactChangeNoticeSms(account.locale, kind, notMeUrl), targetAccountId: account.id });
  }
}

/** `POST /api/v1/me/email`: the password, then a link to the new address (60 min); the old one is told. */
export async function requestEmailChange(ctx: FlowContext, input: { account: Account; password: string; email: string }, meta: RequestMeta): Promise<void> {
  const { account } = input;
  const email = input.email.normalize('NFKC').trim();
  if (!isValidEmail(email)) throw new AppError('invalid_request', { field: 'email' }, 'not an e-mail address');
  await enforceRequestLimits(ctx, account, meta);
  await assertPassword(ctx, account, input.password);
  if (account.email_key === emailKey(email) && account.email_verified_at !== null) throw new AppError('invalid_request', { field: 'email' }, 'already the account\'s address');
  const now = ctx.clock.now();
  const token = newSecretToken(ctx.random);
  const minutes = ctx.settings.emailLinkTtlMinutes;
  await ctx.store.db.transaction().execute(async (tx) => {
    await cancelContactChanges(tx, account.id, iso(now), 'email');
    await insertContactChange(tx, {
      id_hash: sha256(token),
      account_id: account.id,
      kind: 'email',
      new_value: email,
      created_at: iso(now),
      expires_at: iso(addMs(now, minutes * 60_000)),
      code_hash: null,
      landed_at: null,
      cancelled_at: null,
    });
    const link = new URL(`/account/email/${token}`, ctx.settings.publicUrl).toString();
    await ctx.outbox.enqueueEmail(tx, 'email.change.link', { to: email, ...emailChangeLetter(account.locale, { login: account.login, link, minutes }) });
    // "This wasn't me" (issue 13 item 3) passes its `notMeUrl` here as the last argument once it lands.
    await noticeOldContact(ctx, tx, account, 'email', email, meta);
    await recordAudit(ctx, tx, { action: 'email.change.requested', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, ip: meta.ip, detail: maskContact('email', email) });
  });
  ctx.outbox.kick();
}

/** `POST /api/v1/me/phone`: the password, then a code to the new number through the SMS guard; the old contact is told. */
export async function requestPhoneChange(ctx: FlowContext, input: { account: Account; password: string; phone: string }, meta: RequestMeta): Promise<PhoneChangeState> {
  const { account } = input;
  if (!ctx.settings.smsEnabled) throw new AppError('not_found', {}, 'no SMS gateway is configured');
  const phone = normalizePhone(input.phone, ctx.settings.smsDefaultRegion);
  if (!phone) throw new AppError('invalid_request', { field: 'phone' }, 'not a phone number');
  await enforceRequestLimits(ctx, account, meta);
  await assertPassword(ctx, account, input.password);
  if (account.phone === phone && account.phone_verified_at !== null) throw new AppError('invalid_request', { field: 'phone' }, 'already the account\'s number');
  await guardText(ctx, { to: phone, sender: { kind: 'account', accountId: account.id, ip: meta.ip }, targetAccountId: account.id });
  const now = ctx.clock.now();
  const flow = newSecretToken(ctx.random);
  const idHash = sha256(flow);
  const code = String(ctx.random.int(1_000_000)).padStart(6, '0');
  const minutes = ctx.settings.phoneFlowTtlMinutes;
  await ctx.store.db.transaction().execute(async (tx) => {
    await cancelContactChanges(tx, account.id, iso(now), 'phone');
    await insertContactChange(tx, {
      id_hash: idHash,
      account_id: account.id,
      kind: 'phone',
      new_value: phone,
      created_at: iso(now),
      expires_at: iso(addMs(now, minutes * 60_000)),
      code_hash: codeHash(ctx, idHash, code),
      landed_at: null,
      cancelled_at: null,
    });
    const text = phoneChangeSms(account.locale, code, minutes, ctx.settings.publicUrl.host);
    await sendTextOrThrow(ctx, tx, { kind: 'phone.change.code', to: phone, text, targetAccountId: account.id });
    // "This wasn't me": its `notMeUrl` goes here too.
    await noticeOldContact(ctx, tx, account, 'phone', phone, meta);
    await recordAudit(ctx, tx, { action: 'phone.change.requested', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, ip: meta.ip, detail: maskContact('phone', phone) });
  });
  ctx.outbox.kick();
  return { flow, expiresIn: minutes * 60 };
}

/**
 * Lands a proved change inside one transaction: marks it landed (atomically, once), refuses a contact
 * another passport holds by now (`contact_taken`, nothing changes), stores the contact verified, kills the
 * account's outstanding tokens and open phone flows (rule 5, before and after: flows of the old and of the
 * new number) and every other pending change of the kind, and audits it.
 */
async function land(ctx: FlowContext, idHash: string, meta: RequestMeta): Promise<{ account: Account; change: ContactChange }> {
  const now = iso(ctx.clock.now());
  try {
    return await ctx.store.db.transaction().execute(async (tx) => {
      const change = await markContactChangeLanded(tx, idHash, now);
      if (!change) throw new AppError('invalid_token');
      const account = await findAccountById(tx, change.account_id);
      if (!account || account.status !== 'active') throw new AppError('invalid_token', {}, 'the account is not active');
      const key = change.kind === 'email' ? emailKey(change.new_value) : change.new_value;
      const holder = await findAccountByIdentifier(tx, { kind: change.kind, key });
      if (holder && holder.id !== account.id) throw new AppError('contact_taken', { field: change.kind });
      await killAccountSecrets(tx, account.id, now);
      await setAccountContact(tx, account.id, change.kind, change.new_value, key, now);
      await closeOpenFlowsOfAccount(tx, account.id, now);
      await cancelContactChanges(tx, account.id, now, change.kind);
      await recordAudit(ctx, tx, { action: `${change.kind}.changed`, actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, ip: meta.ip, detail: maskContact(change.kind, change.new_value) });
      return { account: { ...account, ...(change.kind === 'email' ? { email: change.new_value, email_key: key } : { phone: change.new_value }) }, change };
    });
  } catch (error) {
    // Taken between our look and the write: the unique key refused it; the same answer as a taken one.
    if (!isAppError(error)) {
      const change = await findLiveContactChange(ctx.store.db, idHash, now);
      const key = change && (change.kind === 'email' ? emailKey(change.new_value) : change.new_value);
      if (change && key && (await findAccountByIdentifier(ctx.store.db, { kind: change.kind, key }))) throw new AppError('contact_taken', { field: change.kind }, 'taken meanwhile', { cause: error });
    }
    throw error;
  }
}

/** What the confirm page shows for a live e-mail link (a look: GET and HEAD change nothing, rule 3). */
export async function inspectEmailChange(ctx: Pick<FlowContext, 'store' | 'clock'>, token: string): Promise<{ login: string; email: string; idHash: string } | undefined> {
  if (token.length === 0 || token.length > 100) return undefined;
  const idHash = sha256(token);
  const change = await findLiveContactChange(ctx.store.db, idHash, iso(ctx.clock.now()));
  if (!change || change.kind !== 'email') return undefined;
  const account = await findAccountById(ctx.store.db, change.account_id);
  if (!account || account.status !== 'active') return undefined;
  return { login: account.login, email: change.new_value, idHash };
}

/** The confirm form's POST: the link proved the new address, so it lands (`invalid_token` when it cannot). */
export async function confirmEmailChange(ctx: FlowContext, input: { token: string }, meta: RequestMeta): Promise<{ login: string; email: string }> {
  const seen = await inspectEmailChange(ctx, input.token);
  if (!seen) throw new AppError('invalid_token');
  const { account, change } = await land(ctx, seen.idHash, meta);
  return { login: account.login, email: change.new_value };
}

/** The account's pending change of a kind, for the pages ("check your new mailbox", "enter the code"). */
export async function pendingContactChange(ctx: Pick<FlowContext, 'store' | 'clock'>, accountId: string, kind: ContactKind): Promise<{ value: string; expiresAt: string } | undefined> {
  const change = await findPendingContactChange(ctx.store.db, accountId, kind, iso(ctx.clock.now()));
  return change ? { value: change.new_value, expiresAt: change.expires_at } : undefined;
}

/**
 * `POST /api/v1/me/phone/verify`: one atomically counted attempt (5 wrong end the change); the right code
 * lands it. `flow` names the change; without it, the account's pending one (the pages keep no handle).
 */
export async function verifyPhoneChange(ctx: FlowContext, input: { account: Account; flow?: string | undefined; code: string }, meta: RequestMeta): Promise<{ phone: string }> {
  if (!ctx.settings.smsEnabled) throw new AppError('not_found', {}, 'no SMS gateway is configured');
  await enforce(ctx, [['phone-verify:ip', meta.ip, limits.phoneVerifyPerIp]]);
  const code = input.code.trim();
  if (!/^\d{6}$/.test(code)) throw new AppError('invalid_request', { field: 'code' }, 'a code is six digits');
  const now = iso(ctx.clock.now());
  const idHash = input.flow !== undefined ? sha256(input.flow) : (await findPendingContactChange(ctx.store.db, input.account.id, 'phone', now))?.id_hash;
  if (idHash === undefined) throw new AppError('invalid_token');
  const live = await findLiveContactChange(ctx.store.db, idHash, now);
  if (!live || live.kind !== 'phone' || live.account_id !== input.account.id) throw new AppError('invalid_token');
  const counted = await countChangeAttempt(ctx.store.db, idHash, now);
  if (!counted) throw new AppError('too_many_attempts');
  if (!counted.code_hash || !safeEqual(counted.code_hash, codeHash(ctx, idHash, code))) {
    if (counted.attempts >= MAX_CHANGE_ATTEMPTS) {
      await cancelContactChange(ctx.store.db, idHash, now);
      throw new AppError('too_many_attempts');
    }
    throw new AppError('invalid_code');
  }
  const { change } = await land(ctx, idHash, meta);
  return { phone: change.new_value };
}
