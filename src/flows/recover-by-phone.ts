import { recoveryChannelAllowed } from '../store/portals.repo.js';
import { normalizePhone } from '../domain/identifiers.js';
import { limits } from '../domain/limits.js';
import type { PhoneCodeJob } from '../delivery/outbox.js';
import { addMs, iso } from '../kernel/clock.js';
import { hmac, newSecretToken, safeEqual, sha256 } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { findAccountByIdentifier } from '../store/accounts.repo.js';
import type { Executor } from '../store/db.js';
import {
  MAX_CODE_ATTEMPTS,
  MAX_RESENDS,
  attachAccount,
  closeFlow,
  countAttempt,
  findPhoneFlow,
  insertPhoneFlow,
  markVerified,
  rotateCode,
  type PhoneFlow,
} from '../store/phone-flows.repo.js';
import { codeSms } from '../ui/sms.js';
import type { FlowContext, RequestMeta } from './context.js';
import { enforce } from './limits.js';
import { guardText, sendText, type TextRefusal } from './text-guard.js';
import { issueToken } from './tokens.js';

/** Seed C4/C5 as a state machine on one `phone_flows` row: open → (code rotated ≤ 3×) → verified | closed. */

export const RESEND_COOLDOWN_SECONDS = 60;
export const PHONE_RESET_TOKEN_MINUTES = 10;

export interface PhoneFlowState {
  /** The handle the client keeps; only its sha256 is stored. */
  flow: string;
  /** Seconds until the current code expires. */
  expiresIn: number;
  /** Seconds until "Send a new code" is allowed; null when no resend is left. */
  resendIn: number | null;
  resendsLeft: number;
}

function newCode(ctx: Pick<FlowContext, 'random'>): string {
  return String(ctx.random.int(1_000_000)).padStart(6, '0');
}

function codeHash(ctx: Pick<FlowContext, 'secretKey'>, flowHash: string, code: string): string {
  return hmac(ctx.secretKey, `sms-code:${flowHash}:${code}`);
}

/** What the client may know about a flow: its countdowns and resends left. */
export function phoneFlowState(ctx: Pick<FlowContext, 'clock'>, flow: string, row: PhoneFlow): PhoneFlowState {
  const now = ctx.clock.now().getTime();
  const resendsLeft = MAX_RESENDS - row.resends;
  const seconds = (at: number) => Math.max(0, Math.ceil((at - now) / 1000));
  return {
    flow,
    expiresIn: seconds(Date.parse(row.code_expires_at)),
    resendIn: resendsLeft > 0 ? seconds(Date.parse(row.code_sent_at) + RESEND_COOLDOWN_SECONDS * 1000) : null,
    resendsLeft,
  };
}

function assertEnabled(ctx: FlowContext): void {
  if (!ctx.settings.smsEnabled) throw new AppError('not_found', {}, 'no SMS gateway is configured');
}

/**
 * Whether this browser's device cookie vouches for the account that owns `phone` (rule 20). Looked up only
 * for a browser that holds such a cookie, so for everyone else the work does not depend on the number (rule 6).
 */
async function ownerAsks(ctx: FlowContext, phone: string, meta: RequestMeta): Promise<boolean> {
  if (!meta.knownAccounts || meta.knownAccounts.size === 0) return false;
  const account = await findAccountByIdentifier(ctx.store.db, { kind: 'phone', key: phone });
  return account !== undefined && meta.knownAccounts.has(account.id);
}

/**
 * "Send me a code". Every well-formed number gets the same work and the same answer: a flow row and a
 * queued job; the worker texts only numbers on an account (SPEC §7 rules 6 and 7). The request counts
 * against the SMS guard's caps (rule 19), the owner's own browser against a budget of its own (rule 20).
 * Each flow lives on its own: a request never closes another flow for the number, so a stranger asking
 * for the owner's number cannot end the owner's flow (rule 20); attempt limits per flow still bound guessing.
 */
export async function requestPhoneRecovery(ctx: FlowContext, input: { phone: string }, meta: RequestMeta): Promise<PhoneFlowState> {
  assertEnabled(ctx);
  const phone = normalizePhone(input.phone, ctx.settings.smsDefaultRegion);
  if (!phone) throw new AppError('invalid_request', { field: 'phone' }, 'not a phone number');
  await guardText(ctx, { to: phone, sender: { kind: 'ip', ip: meta.ip, owner: await ownerAsks(ctx, phone, meta) } });
  const now = ctx.clock.now();
  const flow = newSecretToken(ctx.random);
  const flowHash = sha256(flow);
  const code = newCode(ctx);
  const row: PhoneFlow = {
    id_hash: flowHash,
    phone,
    account_id: null,
    created_at: iso(now),
    expires_at: iso(addMs(now, ctx.settings.phoneFlowTtlMinutes * 60_000)),
    code_hash: codeHash(ctx, flowHash, code),
    code_expires_at: iso(addMs(now, ctx.settings.smsCodeTtlSeconds * 1000)),
    code_sent_at: iso(now),
    resends: 0,
    attempts: 0,
    verified_at: null,
    closed_at: null,
  };
  await ctx.store.db.transaction().execute(async (tx) => {
    await insertPhoneFlow(tx, row);
    await ctx.outbox.enqueueJob(tx, 'recovery.phone.code', { flowHash, phone, code });
  });
  ctx.outbox.kick();
  return phoneFlowState(ctx, flow, row);
}

/** "Send a new code": rotates the code (the old one dies), at most 3 times per flow, 60 s apart. */
export async function resendPhoneCode(ctx: FlowContext, input: { flow: string }, meta: RequestMeta): Promise<PhoneFlowState> {
  assertEnabled(ctx);
  const flowHash = sha256(input.flow);
  const now = ctx.clock.now();
  const current = await findPhoneFlow(ctx.store.db, flowHash);
  if (!current || current.closed_at || current.verified_at || current.expires_at <= iso(now)) throw new AppError('invalid_token');
  if (current.resends >= MAX_RESENDS) throw new AppError('too_many_attempts', {}, 'no resends left');
  const readyAt = Date.parse(current.code_sent_at) + RESEND_COOLDOWN_SECONDS * 1000;
  if (now.getTime() < readyAt) throw new AppError('rate_limited', { retryAfter: Math.ceil((readyAt - now.getTime()) / 1000) });
  const owner = current.account_id !== null && meta.knownAccounts?.has(current.account_id) === true;
  await guardText(ctx, { to: current.phone, sender: { kind: 'ip', ip: meta.ip, owner } });
  const code = newCode(ctx);
  const rotated = await ctx.store.db.transaction().execute(async (tx) => {
    const row = await rotateCode(tx, flowHash, {
      codeHash: codeHash(ctx, flowHash, code),
      codeExpiresAt: iso(addMs(now, ctx.settings.smsCodeTtlSeconds * 1000)),
      now: iso(now),
      cooldownStartedBefore: iso(addMs(now, -RESEND_COOLDOWN_SECONDS * 1000)),
    });
    if (row) await ctx.outbox.enqueueJob(tx, 'recovery.phone.code', { flowHash, phone: row.phone, code });
    return row;
  });
  // Lost a race with a parallel resend: that one rotated the code, this one waits like any early resend.
  if (!rotated) throw new AppError('rate_limited', { retryAfter: RESEND_COOLDOWN_SECONDS });
  ctx.outbox.kick();
  return phoneFlowState(ctx, input.flow, rotated);
}

/**
 * Checks a code. Each call is one atomically counted attempt (5 per flow, across resends); the right,
 * live code marks the flow verified on the server and returns a one-time reset token valid 10 minutes.
 */
export async function verifyPhoneCode(ctx: FlowContext, input: { flow: string; code: string }, meta: RequestMeta): Promise<{ token: string }> {
  assertEnabled(ctx);
  await enforce(ctx, [['phone-verify:ip', meta.ip, limits.phoneVerifyPerIp]]);
  if (!/^\d{6}$/.test(input.code)) throw new AppError('invalid_request', { field: 'code' }, 'a code is six digits');
  const flowHash = sha256(input.flow);
  const now = ctx.clock.now();
  const counted = await countAttempt(ctx.store.db, flowHash, iso(now));
  if (!counted) {
    const flow = await findPhoneFlow(ctx.store.db, flowHash);
    if (flow && !flow.verified_at && flow.expires_at > iso(now) && flow.attempts >= MAX_CODE_ATTEMPTS) throw new AppError('too_many_attempts');
    throw new AppError('invalid_token');
  }
  const matches = safeEqual(counted.code_hash, codeHash(ctx, flowHash, input.code)) && counted.account_id !== null;
  if (!matches) {
    if (counted.attempts >= MAX_CODE_ATTEMPTS) {
      await closeFlow(ctx.store.db, flowHash, iso(now));
      throw new AppError('too_many_attempts');
    }
    throw new AppError('invalid_code');
  }
  if (counted.code_expires_at <= iso(now)) throw new AppError('code_expired');
  const accountId = counted.account_id;
  if (accountId === null) throw new AppError('invalid_code');
  // Through the one issueToken: the account's outstanding links and other open flows die (rule 5).
  const token = await ctx.store.db.transaction().execute(async (tx) => {
    if (!(await markVerified(tx, flowHash, iso(now)))) throw new AppError('invalid_token');
    return issueToken(ctx, tx, { accountId, purpose: 'phone_reset', lifetimeMs: PHONE_RESET_TOKEN_MINUTES * 60_000 });
  });
  return { token };
}

export type SmsSkipReason = 'unknown_number' | 'flow_closed' | 'channel_off' | TextRefusal;

/**
 * Worker side: texts the code if the number is a verified phone of an active account and the flow is still
 * open, through the SMS guard's `sendText` (country, daily budget; the caps were counted at request time).
 * Returns why it did not, for logs and metrics.
 */
export async function sendPhoneCode(
  ctx: Pick<FlowContext, 'clock' | 'random' | 'outbox' | 'settings' | 'store' | 'limiter' | 'smsRefusals'>,
  tx: Executor,
  job: PhoneCodeJob,
): Promise<SmsSkipReason | undefined> {
  const account = await findAccountByIdentifier(tx, { kind: 'phone', key: job.phone });
  if (!account || account.status !== 'active' || !account.phone_verified_at) return 'unknown_number';
  // Every portal of the person turned phone recovery off: no text; the request was answered as any other.
  if (!(await recoveryChannelAllowed(tx, account.id, 'phone'))) return 'channel_off';
  // Closed meanwhile (a password change, a new token): its code would be of no use to anyone.
  if (!(await attachAccount(tx, job.flowHash, account.id))) return 'flow_closed';
  const text = codeSms(account.locale, job.code, ctx.settings.smsCodeTtlSeconds, ctx.settings.publicUrl.host);
  return sendText(ctx, tx, { kind: 'recovery.sms.code', to: job.phone, text, targetAccountId: account.id });
}
