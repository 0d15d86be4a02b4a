import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';

/**
 * Verifies a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, §2.6) with node:crypto
 * only: the signature against the provider's JWKS (RS256 or ES256, the algorithms Latchkey signs with),
 * then `typ`, `iss`, `aud`, `iat`/`exp`, `events`, `sub`/`sid` and the absence of `nonce`.
 */

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutClaims {
  iss: string;
  aud: string | string[];
  iat: number;
  jti?: string;
  sub?: string;
  sid?: string;
}

export class LogoutTokenError extends Error {}

type Jwk = JsonWebKey & { kid?: string; alg?: string };

export interface LogoutTokenCheck {
  issuer: string;
  clientId: string;
  /** The provider's public keys; called again with `refresh` when the token names a key it does not have (after a rotation). */
  keys: (refresh: boolean) => Promise<Jwk[]>;
  nowSeconds: number;
  /** Clock difference tolerated between the provider and this app. */
  skewSeconds?: number;
}

function part(segment: string | undefined, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw new LogoutTokenError(`the ${what} is not a JSON object`);
}

export async function verifyLogoutToken(token: string, check: LogoutTokenCheck): Promise<LogoutClaims> {
  const segments = token.split('.');
  if (segments.length !== 3) throw new LogoutTokenError('not a signed JWT');
  const [headerPart, payloadPart, signaturePart = ''] = segments;
  const header = part(headerPart, 'header');
  // Explicit typing keeps an ID token (same issuer, same keys) from passing as a logout token.
  if (header.typ !== 'logout+jwt') throw new LogoutTokenError('typ is not logout+jwt');
  const alg = header.alg;
  if (alg !== 'RS256' && alg !== 'ES256') throw new LogoutTokenError(`unexpected alg ${String(alg)}`);
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const pick = (keys: Jwk[]) => keys.find((key) => (kid === undefined || key.kid === kid) && (key.alg === undefined || key.alg === alg));
  const jwk = pick(await check.keys(false)) ?? pick(await check.keys(true));
  if (!jwk) throw new LogoutTokenError('signed with a key the provider does not publish');
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const valid = alg === 'ES256' ? verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature) : verify('sha256', signed, key, signature);
  if (!valid) throw new LogoutTokenError('bad signature');

  const claims = part(payloadPart, 'payload');
  const skew = check.skewSeconds ?? 60;
  if (claims.iss !== check.issuer) throw new LogoutTokenError('iss is not the issuer');
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audience.includes(check.clientId)) throw new LogoutTokenError('aud is not this client');
  if (typeof claims.iat !== 'number' || claims.iat > check.nowSeconds + skew) throw new LogoutTokenError('iat missing or in the future');
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp < check.nowSeconds - skew)) throw new LogoutTokenError('expired');
  const events = claims.events as Record<string, unknown> | undefined;
  const event = events && typeof events === 'object' ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (!event || typeof event !== 'object') throw new LogoutTokenError('no back-channel logout event');
  if (claims.nonce !== undefined) throw new LogoutTokenError('a logout token carries no nonce');
  const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
  const sid = typeof claims.sid === 'string' ? claims.sid : undefined;
  if (!sub && !sid) throw new LogoutTokenError('neither sub nor sid');
  const verified: LogoutClaims = {
    iss: claims.iss,
    aud: claims.aud as string | string[],
    iat: claims.iat,
    ...(typeof claims.jti === 'string' ? { jti: claims.jti } : {}),
    ...(sub ? { sub } : {}),
    ...(sid ? { sid } : {}),
  };
  return verified;
}
