import { ConfigError, type Edition } from '../config.js';
import { iso, type Clock } from '../kernel/clock.js';
import { hmac, safeEqual } from '../kernel/crypto.js';
import type { Store } from '../store/db.js';
import { claimInstance } from '../store/instance.repo.js';

/** The label whose HMAC under the secret identifies it; the secret itself is never stored. */
const SECRET_CHECK_LABEL = 'latchkey:instance-secret-check:v1';

const OWN_DATABASE = 'give each instance its own database (LATCHKEY_DATA_DIR or LATCHKEY_DATABASE_URL)';

/**
 * Issue 14, item 1: a database belongs to the instance that first opened it. Another edition, or another
 * secret (its outbox could not open the sealed messages, and would retry them forever), stops at start
 * with one line naming the setting that differs.
 */
export async function checkInstance(ctx: { store: Store; clock: Clock }, settings: { edition: Edition; secretKey: Buffer }): Promise<void> {
  const secretCheck = hmac(settings.secretKey, SECRET_CHECK_LABEL);
  const owner = await claimInstance(ctx.store.db, { id: 1, edition: settings.edition, secret_check: secretCheck, created_at: iso(ctx.clock.now()) });
  if (owner.edition !== settings.edition) {
    throw new ConfigError([`LATCHKEY_EDITION: this database belongs to a ${owner.edition} instance, not ${settings.edition}; ${OWN_DATABASE}`]);
  }
  if (!safeEqual(owner.secret_check, secretCheck)) {
    throw new ConfigError([`LATCHKEY_SECRET: this database was made with another secret (LATCHKEY_SECRET, or the secret file in its data folder); start with that one, or ${OWN_DATABASE}`]);
  }
}
