import type { FastifyReply, FastifyRequest } from 'fastify';
import '@fastify/cookie';
import { hmac, safeEqual, sha256 } from '../kernel/crypto.js';

/**
 * The device cookie (SPEC §7 rule 20, OWASP "Slow down online guessing with device cookies"): a signed list
 * of the accounts this browser has signed in to. A browser that holds it for an account gets its own budget
 * of failures, so a flood of wrong secrets from elsewhere never refuses the owner. It outlives sign-out.
 */
export const DEVICE_COOKIE = 'lk_device';
/** Browsers cap cookie lifetimes at 400 days. */
const MAX_AGE_SECONDS = 400 * 24 * 3600;
/** The newest accounts first; a shared browser keeps at most this many. */
const MAX_ACCOUNTS = 8;
const ACCOUNT_ID = /^[0-9a-f]{32}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** Accounts this browser signed in to before, from a valid device cookie; empty otherwise. */
    knownAccounts: ReadonlySet<string>;
  }
}

function signature(secretKey: Buffer, accounts: string): string {
  return hmac(secretKey, `device:${accounts}`);
}

/** The accounts a device cookie vouches for; a missing, forged or malformed cookie vouches for none. */
export function readDeviceCookie(secretKey: Buffer, value: string | undefined): Set<string> {
  if (!value || value.length > 600) return new Set();
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return new Set();
  const accounts = value.slice(0, dot);
  if (!safeEqual(value.slice(dot + 1), signature(secretKey, accounts))) return new Set();
  const ids = accounts.split(',').filter((id) => ACCOUNT_ID.test(id));
  return new Set(ids.slice(0, MAX_ACCOUNTS));
}

export function deviceCookieValue(secretKey: Buffer, accountIds: readonly string[]): string {
  const accounts = accountIds.slice(0, MAX_ACCOUNTS).join(',');
  return `${accounts}.${signature(secretKey, accounts)}`;
}

/** An onRequest hook: fills `request.knownAccounts` from the cookie. */
export function loadDeviceCookie(secretKey: Buffer) {
  return async (request: FastifyRequest) => {
    request.knownAccounts = readDeviceCookie(secretKey, request.cookies[DEVICE_COOKIE]);
  };
}

/**
 * The browser's id for its own budgets of failures: a hash of its valid device cookie (the signed value
 * cannot be made without signing in to those accounts), or undefined when it vouches for nobody.
 */
export function deviceIdOf(request: FastifyRequest): string | undefined {
  const value = request.cookies[DEVICE_COOKIE];
  return value && request.knownAccounts?.size ? sha256(value) : undefined;
}

/**
 * After a successful sign-in (any first factor): this browser now vouches for the account, newest first.
 * Returns whether the browser was new to the account (for "new sign-in" notices).
 */
export function rememberDevice(request: FastifyRequest, reply: FastifyReply, secretKey: Buffer, accountId: string, secure: boolean): boolean {
  const known = request.knownAccounts ?? new Set<string>();
  const isNew = !known.has(accountId);
  const ids = [accountId, ...[...known].filter((id) => id !== accountId)];
  reply.setCookie(DEVICE_COOKIE, deviceCookieValue(secretKey, ids), { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: MAX_AGE_SECONDS });
  return isNew;
}
