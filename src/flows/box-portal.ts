import { iso } from '../kernel/clock.js';
import { newId } from '../kernel/crypto.js';
import type { Executor } from '../store/db.js';
import { findPortalBySlug } from '../store/portals.repo.js';
import type { Portal } from '../store/schema.js';
import type { FlowContext } from './context.js';

/** The same shape `latchkey portal add` accepts. */
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface BoxPortalSettings {
  slug: string;
  title: string;
}

/**
 * The box edition's one portal (LATCHKEY_BOX_PORTAL_SLUG / _TITLE), created at first start if missing.
 * One `INSERT … ON CONFLICT (slug) DO NOTHING`: idempotent, and two processes starting at once both end
 * up with the same row. An existing portal is left as it is (an operator may have renamed it).
 */
export async function ensureBoxPortal(ctx: Pick<FlowContext, 'store' | 'clock' | 'random'>, settings: BoxPortalSettings): Promise<Portal> {
  if (!SLUG.test(settings.slug)) throw new Error(`LATCHKEY_BOX_PORTAL_SLUG: "${settings.slug}" must be lower-case letters, digits and dashes`);
  const db = ctx.store.db;
  const existing = await findPortalBySlug(db, settings.slug);
  if (existing) return existing;
  await insertPortalIfMissing(db, {
    id: newId(ctx.random),
    slug: settings.slug,
    title: settings.title.trim() || settings.slug,
    url: `/portals/${settings.slug}`,
    color: null,
    support_contact: null,
    created_at: iso(ctx.clock.now()),
  });
  const portal = await findPortalBySlug(db, settings.slug);
  if (!portal) throw new Error(`box portal ${settings.slug} could not be created`);
  return portal;
}

async function insertPortalIfMissing(db: Executor, portal: Portal): Promise<void> {
  await db
    .insertInto('portals')
    .values(portal)
    .onConflict((oc) => oc.column('slug').doNothing())
    .execute();
}
