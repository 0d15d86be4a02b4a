import type { Logger } from 'pino';
import type { BackchannelLogoutJob, CheckwordRequestJob, InvitationJob, PhoneCodeJob, RecoveryRequestJob } from './delivery/outbox.js';
import type { JobHandlers } from './delivery/outbox.worker.js';
import { issueCheckword } from './flows/checkword.js';
import type { FlowContext } from './flows/context.js';
import { deliverInvitation } from './flows/deliver-invitation.js';
import { issueRecoveryLink } from './flows/recover-by-email.js';
import { sendPhoneCode } from './flows/recover-by-phone.js';
import type { Metrics } from './kernel/metrics.js';
import { sendLogoutToken } from './oidc/logout.js';

/**
 * What the outbox worker does for each kind of queued job (composition root, like src/deps.ts): the flows'
 * worker halves, each run in the transaction that marks its job done. A new job kind is one line here.
 */
export function jobHandlers(ctx: FlowContext, observe: { metrics: Metrics; logger: Logger }): JobHandlers {
  const open = <T>(sealed: string) => ctx.outbox.open<T>(sealed);
  return {
    'recovery.email.request': async (tx, payload) => void (await issueRecoveryLink(ctx, tx, open<RecoveryRequestJob>(payload))),
    'recovery.checkword.request': async (tx, payload) => void (await issueCheckword(ctx, tx, open<CheckwordRequestJob>(payload))),
    'invitation.deliver': async (tx, payload) => void (await deliverInvitation(ctx, tx, open<InvitationJob>(payload))),
    // A call to the application's server, outside any transaction (src/oidc/logout.ts).
    'oidc.backchannel_logout': { remote: async (payload) => sendLogoutToken(ctx, open<BackchannelLogoutJob>(payload)) },
    'recovery.phone.code': async (tx, payload) => {
      const skipped = await sendPhoneCode(ctx, tx, open<PhoneCodeJob>(payload));
      if (skipped === 'budget_exhausted') {
        observe.metrics.smsBudgetExhausted.inc();
        observe.logger.error('outbox: daily SMS budget reached, code not sent (LATCHKEY_SMS_DAILY_BUDGET)');
      }
    },
  };
}
