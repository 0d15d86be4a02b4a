import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/**
 * The box edition's recovery (seed B1–B2): `/recover` asks for login or e-mail and e-mails a checkword;
 * `/recover/checkword` sets the new password. API: `/api/v1/recovery/checkword` and `…/complete`.
 */
export async function boxRoutes(_app: FastifyInstance, _opts: { deps: Deps }): Promise<void> {
  // Filled in by the box edition work.
}
