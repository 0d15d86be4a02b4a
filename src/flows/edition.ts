import { AppError } from '../kernel/errors.js';
import type { FlowContext } from './context.js';

/** Cloud-only and box-only use cases answer `edition_mismatch` in the other edition (SPEC §5). */
export function assertEdition(ctx: Pick<FlowContext, 'settings'>, edition: 'cloud' | 'box'): void {
  if (ctx.settings.edition !== edition) throw new AppError('edition_mismatch', {}, `${edition} edition only`);
}
