import type { Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

/** Above this share of the last interval spent running JavaScript, the event loop counts as saturated. */
const SATURATED_UTILIZATION = 0.8;
const SAMPLE_MS = 100;

/**
 * Whether requests are pressing on this process right now, for the outbox worker to defer to them
 * (delivery/outbox.worker.ts `yieldWhile`): requests in flight *and* an event loop that was saturated over
 * the last 100 ms. At half capacity requests are always in flight, yet the loop has room: letters then
 * leave at once instead of waiting for a moment with no request at all (issue 15, item 5).
 */
export function requestPressure(server: Server): { pressing(): boolean; stop(): void } {
  let inFlight = 0;
  server.on('request', (_request, response: ServerResponse) => {
    inFlight += 1;
    response.once('close', () => (inFlight -= 1));
  });
  let last = performance.eventLoopUtilization();
  let saturated = false;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    saturated = performance.eventLoopUtilization(now, last).utilization > SATURATED_UTILIZATION;
    last = now;
  }, SAMPLE_MS);
  timer.unref();
  return { pressing: () => inFlight > 0 && saturated, stop: () => clearInterval(timer) };
}
