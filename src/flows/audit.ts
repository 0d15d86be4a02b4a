import { iso } from '../kernel/clock.js';
import { newId } from '../kernel/crypto.js';
import { insertAuditEvent } from '../store/audit.repo.js';
import type { Executor } from '../store/db.js';
import type { FlowContext } from './context.js';

export interface AuditEntry {
  action: string;
  /** `self`, `operator` (CLI), `admin`, `recovery` or `system`. */
  actorKind: string;
  actorAccountId?: string | null;
  targetAccountId?: string | null;
  portalId?: string | null;
  ip?: string | null;
  detail?: string | null;
  /** When it happened, if not now (e.g. the moment a link was issued). */
  at?: Date;
}

/** Writes one audit event inside the caller's transaction (SPEC §7 rule 13: every admin action is logged). */
export async function recordAudit(ctx: Pick<FlowContext, 'clock' | 'random'>, tx: Executor, entry: AuditEntry): Promise<void> {
  await insertAuditEvent(tx, {
    id: newId(ctx.random),
    at: iso(entry.at ?? ctx.clock.now()),
    actor_account_id: entry.actorAccountId ?? null,
    actor_kind: entry.actorKind,
    action: entry.action,
    target_account_id: entry.targetAccountId ?? null,
    portal_id: entry.portalId ?? null,
    ip: entry.ip ?? null,
    detail: entry.detail ?? null,
  });
}
