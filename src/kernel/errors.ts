/**
 * Stable error codes of SPEC §5, with their HTTP status: the one source of status (AppError reads it here,
 * where flows throw it). What a person or client reads for each code is src/http/error-table.ts, whose rows
 * restate these statuses and do not compile without one row per code.
 */
export const errorStatus = {
  invalid_credentials: 401,
  /** The right password of an account locked by "this wasn't me" (SPEC §7 rule 23): only its unlock link opens it. */
  account_locked: 403,
  invalid_request: 400,
  weak_password: 422,
  invalid_token: 400,
  invalid_code: 400,
  code_expired: 410,
  too_many_attempts: 429,
  rate_limited: 429,
  forbidden: 403,
  /** Signed in, but an admin's "must change at next sign-in" stands: only the password change and sign-out work. */
  password_change_required: 403,
  unauthorized: 401,
  /** A second-factor answer without a live pending challenge (missing, expired, closed). */
  second_factor_required: 401,
  not_found: 404,
  /** Unlinking the only way left to sign in (no password, one social identity). */
  last_sign_in_method: 409,
  /** A login that is taken, or that would pass for a taken one: one answer for both (issue 10, item 11). */
  login_unavailable: 409,
  /** Firing or demoting the portal's last active admin (issue 13): somebody must be left to administer it. */
  last_admin: 409,
  /** An admin firing themselves (issue 13): another admin must do it. */
  cannot_fire_self: 409,
  /** An e-mail or phone change whose new contact another passport holds by the time it is proved (issue 13). */
  contact_taken: 409,
  edition_mismatch: 404,
  request_timeout: 408,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  headers_too_large: 431,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface ErrorExtras {
  /** The request field at fault (invalid_request). */
  field?: string;
  /** Machine-readable reasons (weak_password). */
  reasons?: string[];
  /** Seconds until a retry may succeed (rate_limited). */
  retryAfter?: number;
}

/**
 * The one error type services throw. `code` is the public contract; `detail` is private
 * (logged, never sent) so secrets and internals stay out of responses.
 */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly extras: ErrorExtras = {},
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(detail ?? code, options);
    this.name = 'AppError';
    this.status = errorStatus[code];
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
