import type { FastifyReply, FastifyRequest } from 'fastify';

const DEFAULT_LANDING = '/portals';
const PATH = /^\/[A-Za-z0-9/_.~-]*$/;
const QUERY = /^[A-Za-z0-9_.~=&%+-]*$/;

/**
 * Where to go after signing in: only a path on this site, so a link can never send someone elsewhere
 * (open redirect). It starts with exactly one "/", never holds "//" or a backslash (`//host`, `/\host`
 * and their kin are another host to a browser), has no scheme, no fragment and no control or quoting
 * characters; a query string of plain characters may follow.
 */
export function safeReturnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 300) return undefined;
  const at = value.indexOf('?');
  const path = at === -1 ? value : value.slice(0, at);
  const query = at === -1 ? undefined : value.slice(at + 1);
  if (!PATH.test(path) || path.includes('//')) return undefined;
  if (query !== undefined && !QUERY.test(query)) return undefined;
  return value;
}

/**
 * A signed-out visitor of a signed-in page goes to `/login`, which brings them back to the page they asked
 * for once they are in (issue 14 item 4). Only a GET is resumed: a form post cannot be replayed.
 */
export function redirectToSignIn(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const here = request.method === 'GET' ? safeReturnPath(request.url) : undefined;
  // The chooser is where a sign-in lands anyway: no need to say so.
  return reply.redirect(here && here !== '/' && here !== DEFAULT_LANDING ? `/login?next=${encodeURIComponent(here)}` : '/login', 303);
}
