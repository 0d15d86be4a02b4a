import { createPortalApp } from './app.js';

/**
 * Starts the example portal application:
 *   LATCHKEY_ISSUER=http://localhost:3000 CLIENT_ID=portal-app CLIENT_SECRET=… PORT=4000 \
 *   APP_URL=http://localhost:4000 npx tsx examples/portal-app/server.ts
 * (`npx latchkey demo` registers the client and prints this line with the secret filled in.)
 */
const env = process.env;
const port = Number(env.PORT ?? 4000);
const secret = env.CLIENT_SECRET;
if (!secret) {
  console.error('portal-app: CLIENT_SECRET is required (npx latchkey demo prints it)');
  process.exit(1);
}
const app = createPortalApp({
  issuer: new URL(env.LATCHKEY_ISSUER ?? 'http://localhost:3000'),
  clientId: env.CLIENT_ID ?? 'portal-app',
  clientSecret: secret,
  appUrl: new URL(env.APP_URL ?? `http://localhost:${port}`),
});
app.server.listen(port, env.HOST ?? '127.0.0.1', () => {
  console.log(`portal-app: open ${env.APP_URL ?? `http://localhost:${port}`} (signs in with ${env.LATCHKEY_ISSUER ?? 'http://localhost:3000'})`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => app.server.close(() => process.exit(0)));
