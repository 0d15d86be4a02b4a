import type { errorStatus, ErrorCode } from '../kernel/errors.js';
import type { MessageKey } from '../ui/i18n.js';

/**
 * How a refusal is said in words beyond one sentence: a weak password's reasons (`weak.*`, one per reason), or
 * "Too many attempts. Try again in N minutes." with `Retry-After` (src/ui/wait.ts).
 */
export type SpecialWording = 'weak-password' | 'wait';

/** One row: everything a person or a client reads for one stable error code of SPEC §5. */
export interface ErrorRow<Code extends ErrorCode = ErrorCode> {
  /**
   * The HTTP status. Restated here so the row reads whole, and checked against kernel's `errorStatus`, which
   * stays the one source: `AppError` is thrown in flows and domain code that must know nothing of http or ui.
   */
  readonly status: (typeof errorStatus)[Code];
  /** The problem+json title (API); a key that is missing from the locales does not compile. */
  readonly title: `problem.${Code}` & MessageKey;
  /** The sentence on the error page (browser requests that no form caught). */
  readonly page: MessageKey | Extract<SpecialWording, 'wait'>;
  /**
   * What every form says when this refusal reaches it (`formRefusal`): it re-shows itself with these words, or
   * (`false`) rethrows to the error page. A page may word a code its own way (`Wording` in form-refusal.ts).
   */
  readonly form: MessageKey | SpecialWording | false;
}

/**
 * The one table from error code to what is read for it. Adding a code to `errorStatus` without a row here, a
 * wrong status, or a message key absent from the locales is a compile error; no other code path chooses words
 * by code name (src/http/errors.ts and form-refusal.ts only read it).
 */
export const errorTable = {
  invalid_credentials: { status: 401, title: 'problem.invalid_credentials', page: 'login.failed', form: 'login.failed' },
  account_locked: { status: 403, title: 'problem.account_locked', page: 'login.locked', form: 'login.locked' },
  invalid_request: { status: 400, title: 'problem.invalid_request', page: 'error.invalid_request', form: false },
  weak_password: { status: 422, title: 'problem.weak_password', page: 'error.invalid_request', form: 'weak-password' },
  invalid_token: { status: 400, title: 'problem.invalid_token', page: 'error.invalid_token', form: false },
  invalid_code: { status: 400, title: 'problem.invalid_code', page: 'code.wrong', form: false },
  code_expired: { status: 410, title: 'problem.code_expired', page: 'code.expired', form: false },
  too_many_attempts: { status: 429, title: 'problem.too_many_attempts', page: 'code.tooMany', form: false },
  rate_limited: { status: 429, title: 'problem.rate_limited', page: 'wait', form: 'wait' },
  forbidden: { status: 403, title: 'problem.forbidden', page: 'error.forbidden', form: false },
  password_change_required: { status: 403, title: 'problem.password_change_required', page: 'error.password_change_required', form: false },
  unauthorized: { status: 401, title: 'problem.unauthorized', page: 'error.unauthorized', form: false },
  second_factor_required: { status: 401, title: 'problem.second_factor_required', page: 'login2fa.expired', form: false },
  not_found: { status: 404, title: 'problem.not_found', page: 'error.not_found', form: false },
  last_sign_in_method: { status: 409, title: 'problem.last_sign_in_method', page: 'account.methods.lastOne', form: false },
  login_unavailable: { status: 409, title: 'problem.login_unavailable', page: 'account.loginUnavailable', form: false },
  last_admin: { status: 409, title: 'problem.last_admin', page: 'admin.error.lastAdmin', form: false },
  cannot_fire_self: { status: 409, title: 'problem.cannot_fire_self', page: 'admin.error.self', form: false },
  contact_taken: { status: 409, title: 'problem.contact_taken', page: 'contact.taken', form: false },
  // Looks like any missing page on purpose: the other edition's routes do not announce themselves.
  edition_mismatch: { status: 404, title: 'problem.edition_mismatch', page: 'error.not_found', form: false },
  // Transport refusals (too slow, too large, too long, wrong type) are the request's fault, not an "unexpected error".
  request_timeout: { status: 408, title: 'problem.request_timeout', page: 'error.invalid_request', form: false },
  payload_too_large: { status: 413, title: 'problem.payload_too_large', page: 'error.invalid_request', form: false },
  uri_too_long: { status: 414, title: 'problem.uri_too_long', page: 'error.invalid_request', form: false },
  unsupported_media_type: { status: 415, title: 'problem.unsupported_media_type', page: 'error.invalid_request', form: false },
  headers_too_large: { status: 431, title: 'problem.headers_too_large', page: 'error.invalid_request', form: false },
  unavailable: { status: 503, title: 'problem.unavailable', page: 'error.unavailable', form: false },
  internal: { status: 500, title: 'problem.internal', page: 'error.internal', form: false },
} as const satisfies { readonly [Code in ErrorCode]: ErrorRow<Code> };

/** The row of a code (widened, for code that holds any code). */
export function errorRow(code: ErrorCode): ErrorRow {
  return errorTable[code];
}
