/**
 * Where to go after signing in: only a path on this site (`/…`, never `//host` or `/\host`), of plain
 * characters, so a link can never send someone elsewhere (open redirect).
 */
export function safeReturnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 200) return undefined;
  return /^\/(?![/\\])[A-Za-z0-9/_-]*$/.test(value) ? value : undefined;
}
