import { parseArgs } from 'node:util';
import type { Deps } from '../deps.js';
import {
  addMember,
  editUser,
  listPortals,
  listUsers,
  removeMember,
  setMemberRoleByOperator,
  showPortal,
  showUser,
  unlockUser,
  type AccountView,
  type PortalMembershipView,
} from '../flows/operator-directory.js';

/**
 * `latchkey user list|show|edit|unlock`, `portal list|show`, `member add|remove|role` (SPEC §4, issue 14
 * item 11). `--json` prints one JSON document on stdout with stable keys; the plain output is for people.
 */

export class UsageError extends Error {}

export const DIRECTORY_USAGE = `  user list [--portal <slug>] [--limit N] [--json]   accounts by login, with their portals
  user show <login> [--json]              an account: contacts, status, portals, sign-in methods
  user edit <login> [--name <n>] [--email <e>] [--phone <p>] [--locale ru|en]
                                          an empty value removes a name, e-mail or phone
  user unlock <login>                     a locked account is active again; its failure counts start afresh
  portal list [--json] | portal show <slug> [--json]
  member add <login> --portal <slug> [--role admin|employee]   an existing account joins a portal
  member remove <login> --portal <slug>   never the portal's last active admin
  member role <login> --portal <slug> --role admin|employee`;

export type WithDeps = <T>(run: (deps: Deps) => Promise<T>) => Promise<T>;

const DEFAULT_LIMIT = 1000;

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Rows as columns padded to their widest cell, two spaces apart. */
function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

const portalsText = (portals: PortalMembershipView[]) =>
  portals.length === 0 ? '-' : portals.map((p) => `${p.portal}${p.role === 'admin' ? ':admin' : ''}${p.status === 'active' ? '' : ` (${p.status})`}`).join(', ');

const userRow = (u: AccountView) => [u.login, u.status, u.email ?? '-', u.phone ?? '-', portalsText(u.portals), u.name ?? ''];

function role(value: string | undefined, fallback?: 'admin' | 'employee'): 'admin' | 'employee' {
  if (value === undefined && fallback) return fallback;
  if (value !== 'admin' && value !== 'employee') throw new UsageError('--role must be admin or employee');
  return value;
}

/** Runs one directory command; undefined when `command sub` is not one of them. */
export async function runDirectoryCommand(withDeps: WithDeps, command: string, sub: string | undefined, rest: string[]): Promise<number | undefined> {
  if (command === 'user' && sub === 'list') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { portal: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } } });
    if (positionals.length > 0) throw new UsageError('user list takes no <login>; see user show');
    if (values.limit !== undefined && !/^[1-9][0-9]{0,6}$/.test(values.limit)) throw new UsageError('--limit must be a whole number from 1');
    const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
    const { users, total } = await withDeps((deps) => listUsers(deps, { portal: values.portal, limit }));
    if (values.json) printJson({ users, total });
    else if (users.length === 0) console.log('no accounts');
    else printTable([['LOGIN', 'STATUS', 'E-MAIL', 'PHONE', 'PORTALS', 'NAME'], ...users.map(userRow)]);
    if (total > users.length) console.error(`latchkey: ${users.length} of ${total} accounts shown; --limit ${total} shows every one`);
    return 0;
  }
  if (command === 'user' && sub === 'show') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
    const login = positionals[0];
    if (!login || positionals.length > 1) throw new UsageError('user show needs <login>');
    const user = await withDeps((deps) => showUser(deps, login));
    if (values.json) {
      printJson({ user });
      return 0;
    }
    const contact = (value: string | null, verified: boolean) => (value === null ? '-' : `${value}${verified ? '' : ' (not verified)'}`);
    printTable([
      ['login:', user.login],
      ['id:', user.id],
      ['name:', user.name ?? '-'],
      ['e-mail:', contact(user.email, user.emailVerified)],
      ['phone:', contact(user.phone, user.phoneVerified)],
      ['status:', user.status],
      ['locale:', user.locale],
      ['password:', user.passwordSet ? (user.mustChangePassword ? 'set, must change at next sign-in' : 'set') : 'not set'],
      ['two-factor:', user.twoFactor ? 'on' : 'off'],
      ['social sign-ins:', user.socialSignIns.length === 0 ? '-' : user.socialSignIns.join(', ')],
      ['portals:', portalsText(user.portals)],
      ['created:', user.createdAt],
    ]);
    return 0;
  }
  if (command === 'user' && sub === 'edit') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { name: { type: 'string' }, email: { type: 'string' }, phone: { type: 'string' }, locale: { type: 'string' } },
    });
    const login = positionals[0];
    if (!login || positionals.length > 1) throw new UsageError('user edit needs <login>');
    if (values.name === undefined && values.email === undefined && values.phone === undefined && values.locale === undefined) throw new UsageError('user edit needs --name, --email, --phone or --locale');
    if (values.locale !== undefined && values.locale !== 'ru' && values.locale !== 'en') throw new UsageError('--locale must be ru or en');
    const changed = await withDeps((deps) => editUser(deps, login, values));
    console.log(changed.length === 0 ? `user ${login}: nothing to change` : `user ${login} updated: ${changed.join(', ')}${changed.includes('email') || changed.includes('phone') ? '; links and codes sent before were revoked' : ''}`);
    return 0;
  }
  if (command === 'user' && sub === 'unlock') {
    const login = rest[0];
    if (!login || rest.length > 1) throw new UsageError('user unlock needs <login>');
    const { wasLocked, disabled } = await withDeps((deps) => unlockUser(deps, login));
    console.log(`user ${login} unlocked${wasLocked ? ' (was locked)' : ''}: wrong passwords and codes count afresh${disabled ? '; the account is still disabled (latchkey user enable)' : ''}`);
    return 0;
  }
  if (command === 'portal' && sub === 'list') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
    if (positionals.length > 0) throw new UsageError('portal list takes no <slug>; see portal show');
    const portals = await withDeps((deps) => listPortals(deps));
    if (values.json) printJson({ portals });
    else if (portals.length === 0) console.log('no portals');
    else printTable([['SLUG', 'MEMBERS', 'ADMINS', 'URL', 'TITLE'], ...portals.map((p) => [p.slug, String(p.members.active), String(p.activeAdmins), p.url, p.title])]);
    return 0;
  }
  if (command === 'portal' && sub === 'show') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
    const slug = positionals[0];
    if (!slug || positionals.length > 1) throw new UsageError('portal show needs <slug>');
    const portal = await withDeps((deps) => showPortal(deps, slug));
    if (values.json) {
      printJson({ portal });
      return 0;
    }
    printTable([
      ['slug:', portal.slug],
      ['title:', portal.title],
      ['url:', portal.url],
      ['support:', portal.supportContact ?? '-'],
      ['members:', `${portal.members.active} active, ${portal.members.fired} fired, ${portal.members.invited} invited`],
      ['admins:', portal.admins.length === 0 ? '-' : portal.admins.join(', ')],
      ['require 2fa:', portal.policy.require2fa ? 'on' : 'off'],
      ['recovery:', portal.policy.recoveryChannels.length === 0 ? '-' : portal.policy.recoveryChannels.join(',')],
      ['min password:', String(portal.policy.minPasswordLength)],
      ['created:', portal.createdAt],
    ]);
    return 0;
  }
  if (command === 'member' && (sub === 'add' || sub === 'remove' || sub === 'role')) {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { portal: { type: 'string' }, role: { type: 'string' } } });
    const login = positionals[0];
    if (!login || positionals.length > 1 || !values.portal) throw new UsageError(`member ${sub} needs <login> and --portal <slug>`);
    const slug = values.portal;
    if (sub === 'add') {
      const wanted = role(values.role, 'employee');
      const how = await withDeps((deps) => addMember(deps, login, slug, wanted));
      console.log(`${login} ${how === 'added' ? 'added to' : 'is active again in'} ${slug} as ${wanted}`);
    } else if (sub === 'remove') {
      if (values.role !== undefined) throw new UsageError('member remove takes no --role');
      await withDeps((deps) => removeMember(deps, login, slug));
      console.log(`${login} removed from ${slug}`);
    } else {
      if (values.role === undefined) throw new UsageError('member role needs --role admin|employee');
      const wanted = role(values.role);
      const changed = await withDeps((deps) => setMemberRoleByOperator(deps, login, slug, wanted));
      console.log(changed ? `${login} is now ${wanted} in ${slug}` : `${login} was already ${wanted} in ${slug}`);
    }
    return 0;
  }
  return undefined;
}
