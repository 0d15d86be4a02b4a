import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import type { EmailPayload } from '../delivery/outbox.js';
import { listRecentMessages } from '../store/outbox.repo.js';
import * as pages from '../ui/pages.js';
import { rememberLang, requestLang } from './request.js';

/** `/dev/outbox`: letters and texts kept in the database when no SMTP or SMS gateway is configured. */
export async function devOutboxRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  app.get('/dev/outbox', async (request, reply) => {
    rememberLang(request, reply);
    const messages = await listRecentMessages(deps.store.db, 50);
    const entries = messages.map((message) => {
      let text: string | undefined;
      try {
        text = message.payload ? deps.outbox.open<EmailPayload>(message.payload).text : undefined;
      } catch {
        text = undefined;
      }
      return { message, text };
    });
    return reply.type('text/html; charset=utf-8').send(pages.devOutboxPage(requestLang(request), entries));
  });
}
