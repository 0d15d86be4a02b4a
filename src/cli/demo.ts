import type { Deps } from '../deps.js';
import { loginKey } from '../domain/identifiers.js';
import { addPortal, addUser, setPasswordByOperator } from '../flows/operator.js';
import { findAccountByIdentifier } from '../store/accounts.repo.js';
import { findPortalBySlug } from '../store/portals.repo.js';

const PORTALS = [
  { slug: 'acme', title: 'Acme Corp' },
  { slug: 'globex', title: 'Globex' },
];

const USERS = [
  { login: 'anna', name: 'Anna Smith', email: 'anna@example.com', locale: 'en' as const, password: 'orange-kettle-51', portals: [{ slug: 'acme', role: 'admin' as const }, { slug: 'globex', role: 'employee' as const }] },
  { login: 'boris', name: 'Борис Петров', email: 'boris@example.com', phone: '+7 916 123-45-67', locale: 'ru' as const, password: 'zelenyj-chajnik-73', portals: [{ slug: 'acme', role: 'employee' as const }] },
];

/** `latchkey demo`: two portals and two accounts a newcomer can walk every flow with. Safe to run again. */
export async function runDemo(deps: Deps): Promise<void> {
  for (const portal of PORTALS) {
    if (!(await findPortalBySlug(deps.store.db, portal.slug))) await addPortal(deps, portal);
  }
  for (const user of USERS) {
    if (await findAccountByIdentifier(deps.store.db, { kind: 'login', key: loginKey(user.login) })) {
      await setPasswordByOperator(deps, user.login, user.password);
    } else {
      await addUser(deps, user);
    }
  }
  const base = deps.config.publicUrl.toString().replace(/\/$/, '');
  console.log(`Demo portals: ${PORTALS.map((p) => `${p.title} (${p.slug})`).join(', ')}

Sign in at ${base}/login with:
${USERS.map((u) => `  login ${u.login.padEnd(6)} or ${u.email.padEnd(18)} password ${u.password}   (${u.locale}, ${u.portals.map((p) => `${p.slug}${p.role === 'admin' ? ' admin' : ''}`).join(', ')})`).join('\n')}

Forgot a password? Open ${base}/recover, enter "anna", then read the letter at ${base}/dev/outbox
(the development outbox is on while no LATCHKEY_SMTP_URL is set) and follow its link.`);
}
