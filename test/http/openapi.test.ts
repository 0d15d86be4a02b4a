import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorStatus } from '../../src/kernel/errors.js';
import { OPENAPI_PATH } from '../../src/http/openapi.js';
import { startTestApp, type TestApp } from '../support/app.js';

interface Operation {
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

/**
 * Every (method, path) the app serves under /api/v1, read from Fastify's own route tree (`printRoutes`), which
 * knows nothing of the OpenAPI generator: a route the generator missed or hid shows up here and not there.
 */
function servedApiRoutes(tree: string): Set<string> {
  const served = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^(.*?)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    const parent = stack[depth - 1] ?? '';
    const path = parent === '/' ? `/${match[2]}` : `${parent}${match[2]}`;
    stack.push(path);
    if (!path.startsWith('/api/v1/') || !match[3]) continue;
    for (const method of match[3].split(', ')) {
      if (method === 'HEAD') continue; // Fastify adds HEAD to every GET; the document describes the GET.
      served.add(`${method.toLowerCase()} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
  }
  return served;
}

/** Issue 15 item 4: GET /api/v1/openapi.json describes every API route with its problem answers. */
describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: Document;
  before(async () => {
    t = await startTestApp({ dialect: 'sqlite', worker: false });
    const response = await t.app.inject({ method: 'GET', url: OPENAPI_PATH });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /application\/json/);
    doc = response.json();
  });
  after(async () => {
    await t.close();
  });

  it('lists every route the app serves under /api/v1, and nothing it does not serve', () => {
    const served = servedApiRoutes(t.app.printRoutes({ commonPrefix: false }));
    assert.ok(served.size >= 30, `found only ${served.size} API routes in the route tree: the tree parser is broken`);
    assert.ok(served.has('post /api/v1/session') && served.has('delete /api/v1/portals/{slug}/invitations/{id}'));
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`)));
    assert.deepEqual([...served].filter((route) => !documented.has(route)), [], 'served but missing from the OpenAPI document');
    assert.deepEqual([...documented].filter((route) => !served.has(route)), [], 'in the document but not served');
    assert.ok(Object.keys(doc.paths).every((path) => path.startsWith('/api/v1/')), 'pages and OIDC endpoints stay out of the API document');
  });

  it('gives every operation its problem answers, and a session requirement where one is needed', () => {
    assert.equal(doc.openapi, '3.1.0');
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const where = `${method} ${path}`;
        assert.ok(operation.responses['400'], `${where}: no 400`);
        assert.equal(operation.responses['400']?.content?.['application/problem+json']?.schema?.$ref, '#/components/schemas/Problem', where);
        assert.ok(operation.responses['default'], `${where}: no default problem`);
        assert.ok(operation.tags?.length, `${where}: untagged`);
      }
    }
    const me = doc.paths['/api/v1/me']?.['get'];
    assert.deepEqual(me?.security, [{ session: [] }]);
    assert.ok(me?.responses['401'], 'a signed-in route answers 401 without a session');
    const signIn = doc.paths['/api/v1/session']?.['post'];
    assert.equal(signIn?.security, undefined, 'signing in needs no session');
    assert.ok(signIn?.responses['429'], 'a public route that counts attempts answers 429');
    assert.ok(doc.paths['/api/v1/portals/{slug}/users/{id}']?.['get']?.responses['404'], 'a route with an id answers 404');
  });

  it('describes the problem body the app really sends, with every stable code', async () => {
    const problem = doc.components.schemas['Problem'] as { required: string[]; properties: Record<string, { type: string; enum?: string[] }> };
    assert.deepEqual([...(problem.properties['code']?.enum ?? [])].sort(), Object.keys(errorStatus).sort());
    const jsonType = (value: unknown) => (Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value);
    /** What the schema says of a body: required members present, no member it does not name, each of its type. */
    const mismatches = (body: Record<string, unknown>) => [
      ...problem.required.filter((key) => !(key in body)).map((key) => `missing ${key}`),
      ...Object.entries(body).flatMap(([key, value]) => {
        const property = problem.properties[key];
        if (!property) return [`unnamed ${key}`];
        if (jsonType(value) !== property.type) return [`${key} is ${jsonType(value)}, not ${property.type}`];
        return property.enum && !property.enum.includes(String(value)) ? [`${key} ${String(value)} not in the enum`] : [];
      }),
    ];
    for (const request of [
      { method: 'POST' as const, url: '/api/v1/session', payload: { login: 7 } },
      { method: 'GET' as const, url: '/api/v1/me' },
      { method: 'POST' as const, url: '/api/v1/session', payload: 'x', headers: { 'content-type': 'text/plain' } },
    ]) {
      const answer = await t.app.inject({ ...request, headers: { 'content-type': 'application/json', ...request.headers } });
      assert.ok(answer.statusCode >= 400 && answer.statusCode < 500, `${request.url}: ${answer.statusCode}`);
      assert.deepEqual(mismatches(answer.json()), [], request.url);
    }
  });
});
