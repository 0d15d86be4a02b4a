import { Secret, TOTP } from 'otpauth';
import type { Deps } from '../../src/deps.js';
import { confirmTotp, startTotpEnrolment } from '../../src/flows/second-factor.js';
import { findAccountById } from '../../src/store/accounts.repo.js';
import type { FakeClock } from './clock.js';

/** The code an authenticator app shows now for this base32 secret (spaces, as pages group it, allowed). */
export function totpCode(secret: string, clock: FakeClock): string {
  return new TOTP({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: clock.now().getTime() });
}

/** Turns the second factor on for an account through the real flows; the clock moves on a step after. */
export async function enrolThroughFlows(deps: Deps, accountId: string, password: string, clock: FakeClock): Promise<{ secret: string; recoveryCodes: string[] }> {
  const account = await findAccountById(deps.store.db, accountId);
  if (!account) throw new Error('no such account');
  const meta = { ip: '127.0.0.9' };
  const { secret } = await startTotpEnrolment(deps, { account, password }, meta);
  const { recoveryCodes } = await confirmTotp(deps, { account, code: totpCode(secret, clock) }, meta);
  clock.advance(30_000);
  return { secret, recoveryCodes };
}
