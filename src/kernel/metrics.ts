import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one app instance (own registry, so tests can build several apps). */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'route'>;
  messagesSent: Counter<'channel'>;
  messagesFailed: Counter<'channel'>;
  outboxDepth: Gauge;
  smsBudgetExhausted: Counter;
  /** Texts the SMS guard refused (rule 19), by reason: a cap, the country list or the daily budget. */
  smsRefused: Counter<'reason'>;
  /** Social sign-in callbacks by outcome: signed_in, created, linked, or a failure reason. */
  socialSignIns: Counter<'provider' | 'outcome'>;
}

export function createMetrics(readDepth: () => Promise<number>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'latchkey_' });
  return {
    registry,
    httpRequests: new Counter({ name: 'latchkey_http_requests_total', help: 'HTTP requests by route template and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    httpDuration: new Histogram({ name: 'latchkey_http_request_duration_seconds', help: 'HTTP request duration by route template', labelNames: ['route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
    messagesSent: new Counter({ name: 'latchkey_messages_sent_total', help: 'Messages handed to a transport', labelNames: ['channel'], registers: [registry] }),
    messagesFailed: new Counter({ name: 'latchkey_messages_failed_total', help: 'Failed delivery attempts', labelNames: ['channel'], registers: [registry] }),
    smsBudgetExhausted: new Counter({ name: 'latchkey_sms_budget_exhausted_total', help: 'Codes not sent because the daily SMS budget was reached', registers: [registry] }),
    smsRefused: new Counter({ name: 'latchkey_sms_refused_total', help: 'Texts refused by the SMS guard, by reason', labelNames: ['reason'], registers: [registry] }),
    socialSignIns: new Counter({ name: 'latchkey_social_sign_ins_total', help: 'Social sign-in callbacks by provider and outcome', labelNames: ['provider', 'outcome'], registers: [registry] }),
    outboxDepth: new Gauge({
      name: 'latchkey_outbox_depth',
      help: 'Messages queued or in flight',
      registers: [registry],
      async collect() {
        this.set(await readDepth().catch(() => -1));
      },
    }),
  };
}
