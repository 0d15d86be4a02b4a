import type { Deps } from '../deps.js';
import { loginKey } from '../domain/identifiers.js';
import { addPortal, addUser, setPasswordByOperator } from '../flows/operator.js';
import { addClient, findClientMetadata } from '../oidc/clients.js';
import { issuerOf } from '../oidc/logout.js';
import { findAccountByIdentifier } from '../store/accounts.repo.js';
import { findPortalBySlug } from '../store/portals.repo.js';

type Role = 'admin' | 'employee';

const CLOUD_PORTALS = [
  { slug: 'acme', title: 'Acme Corp' },
  { slug: 'globex', title: 'Globex' },
];

/** boris's number: the one the SMS flow (/recover/phone) is walked with. */
const DEMO_PHONE = '+7 916 123-45-67';

/** The demo accounts; `portals` maps each account to its roles in the portals given (box: the one portal). */
function demoUsers(portals: { first: string; second: string | undefined }) {
  const anna: { slug: string; role: Role }[] = [{ slug: portals.first, role: 'admin' }];
  if (portals.second) anna.push({ slug: portals.second, role: 'employee' });
  return [
    { login: 'anna', name: 'Anna Smith', email: 'anna@example.com', locale: 'en' as const, password: 'orange-kettle-51', portals: anna },
    { login: 'boris', name: 'Борис Петров', email: 'boris@example.com', phone: DEMO_PHONE, locale: 'ru' as const, password: 'zelenyj-chajnik-73', portals: [{ slug: portals.first, role: 'employee' as Role }] },
  ];
}

/** The example portal application (examples/portal-app) and where it runs. */
export const DEMO_APP_CLIENT_ID = 'portal-app';
export const DEMO_APP_URL = 'http://localhost:4000';

/**
 * The example application's client in the demo portal, registered once: a later run prints the same
 * secret again (a development convenience; `latchkey client add` shows a secret only once).
 */
async function ensureDemoClient(deps: Deps, portalSlug: string): Promise<string> {
  const existing = await findClientMetadata(deps, DEMO_APP_CLIENT_ID);
  if (typeof existing?.client_secret === 'string') return existing.client_secret;
  const added = await addClient(
    deps,
    {
      clientId: DEMO_APP_CLIENT_ID,
      portalSlug,
      redirectUris: [`${DEMO_APP_URL}/callback`],
      postLogoutRedirectUris: [`${DEMO_APP_URL}/signed-out`],
      backchannelLogoutUri: `${DEMO_APP_URL}/backchannel-logout`,
    },
    deps.config.production,
  );
  return added.secret ?? '';
}

/**
 * `latchkey demo`: portals and two accounts a newcomer can walk every flow with. Safe to run again. In the
 * box edition the accounts join its one portal (created at first start), anna as its admin.
 */
export async function runDemo(deps: Deps): Promise<void> {
  const box = deps.config.edition === 'box';
  const portals = box ? [deps.config.boxPortal] : CLOUD_PORTALS;
  for (const portal of portals) {
    if (!(await findPortalBySlug(deps.store.db, portal.slug))) await addPortal(deps, portal);
  }
  const [first, second] = portals.map((p) => p.slug);
  const users = demoUsers({ first: first ?? '', second });
  for (const user of users) {
    if (await findAccountByIdentifier(deps.store.db, { kind: 'login', key: loginKey(user.login) })) {
      await setPasswordByOperator(deps, user.login, user.password);
    } else {
      await addUser(deps, user);
    }
  }
  const appSecret = await ensureDemoClient(deps, first ?? '');
  const base = deps.config.publicUrl.toString().replace(/\/$/, '');
  const readAt = deps.config.dev ? `${base}/dev/outbox` : undefined;
  const mail = `Forgot a password? Open ${base}/recover, enter "anna", then follow the ${box ? 'checkword ' : ''}link in the letter
${readAt ? `at ${readAt} (the development outbox, on while no LATCHKEY_SMTP_URL is set).` : 'LATCHKEY_SMTP_URL delivers to anna@example.com.'}`;
  const phone = !deps.settings.smsEnabled
    ? `Phone recovery is off: no SMS gateway is configured${box ? ' (LATCHKEY_SMS_PROVIDER=dev keeps texts at /dev/outbox)' : ''}.`
    : `By phone: open ${base}/recover/phone, enter boris's number ${DEMO_PHONE}, then the code
${readAt ? `shown at ${readAt}` : 'the SMS gateway delivers to that number'}.`;
  console.log(`Edition: ${deps.config.edition}. Demo portal${portals.length > 1 ? 's' : ''}: ${portals.map((p) => `${p.title} (${p.slug})`).join(', ')}

Sign in at ${base}/login with:
${users.map((u) => `  login ${u.login.padEnd(6)} or ${u.email.padEnd(18)} password ${u.password}   (${u.locale}, ${u.portals.map((p) => `${p.slug}${p.role === 'admin' ? ' admin' : ''}`).join(', ')})${u.phone ? `, phone ${u.phone}` : ''}`).join('\n')}

Administration: sign in as anna and open ${base}/admin/${first ?? ''}/users.

${mail}
${phone}

A portal application (examples/portal-app) signing in with Latchkey: client_id=${DEMO_APP_CLIENT_ID} client_secret=${appSecret}
(a client of ${first ?? ''}; redirect URI ${DEMO_APP_URL}/callback). Start it in another terminal, then open ${DEMO_APP_URL}:
  LATCHKEY_ISSUER=${issuerOf(deps.config.publicUrl)} CLIENT_ID=${DEMO_APP_CLIENT_ID} CLIENT_SECRET=${appSecret} PORT=${new URL(DEMO_APP_URL).port} APP_URL=${DEMO_APP_URL} npx tsx examples/portal-app/server.ts`);
}
