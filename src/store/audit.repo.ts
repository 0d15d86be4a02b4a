import type { Insertable } from 'kysely';
import type { Executor } from './db.js';
import type { AuditEventsTable } from './schema.js';

export type AuditEvent = Insertable<AuditEventsTable>;

export async function insertAuditEvent(db: Executor, event: AuditEvent): Promise<void> {
  await db.insertInto('audit_events').values(event).execute();
}
