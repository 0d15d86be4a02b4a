import { CsvError, parseCsv, type CsvRecord } from '../domain/csv.js';
import { emailKey, isValidEmail, isValidLogin, loginKey, normalizePhone } from '../domain/identifiers.js';
import { iso } from '../kernel/clock.js';
import { newId } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { BITRIX_PREFIX, bitrixHashKind } from '../kernel/legacy-hashes.js';
import { findAccountByIdentifier, insertAccount } from '../store/accounts.repo.js';
import type { Executor } from '../store/db.js';
import { findPortalBySlug, upsertMembership } from '../store/portals.repo.js';
import type { Account, Portal } from '../store/schema.js';
import { recordAudit } from './audit.js';
import type { FlowContext } from './context.js';

/**
 * `latchkey import bitrix --file users.csv [--portal <slug>]`: people move in from Bitrix with their
 * passwords. Each line of an export of Bitrix's `b_user` table (README, "Moving in from Bitrix") becomes
 * an account, with its Bitrix password hash kept as it is (`bitrix:…`, replaced by argon2id at the first
 * sign-in) and a membership of the portal. Contacts count as verified only when the file says so
 * (`EMAIL_VERIFIED`/`PHONE_VERIFIED` = `Y`). A line that cannot be imported is refused with its reason,
 * never half-imported; the lines go in batches, each batch one transaction.
 */

export interface RefusedLine {
  line: number;
  login: string;
  reason: string;
}

export interface BitrixImportReport {
  portal: string | null;
  imported: number;
  /** Imported with `ACTIVE=N`: disabled accounts (they cannot sign in until enabled). */
  disabled: number;
  /** Imported with an empty `PASSWORD`: they set one through recovery. */
  withoutPassword: number;
  refused: RefusedLine[];
  /** Logins still on a bare md5(password), the weakest form: ask these people to sign in or reset soon. */
  bareMd5: string[];
}

const BATCH = 200;
const MAX_NAME = 200;

interface Candidate {
  line: number;
  account: Account;
  bareMd5: boolean;
}

type Parsed = { ok: true; candidate: Candidate } | { ok: false; refusal: RefusedLine };

class Columns {
  private readonly index = new Map<string, number>();
  constructor(header: string[]) {
    header.forEach((name, i) => this.index.set(name.trim().toUpperCase(), i));
  }
  has(name: string): boolean {
    return this.index.has(name);
  }
  get(fields: string[], name: string): string {
    const i = this.index.get(name);
    return i === undefined ? '' : (fields[i] ?? '').trim();
  }
}

/** Bitrix's own `Y`/`N` flags; an empty cell is the default. */
function flag(value: string, whenEmpty: boolean): boolean | undefined {
  const v = value.toUpperCase();
  if (v === '') return whenEmpty;
  if (v === 'Y') return true;
  if (v === 'N') return false;
  return undefined;
}

function parseLine(ctx: Pick<FlowContext, 'random' | 'settings'>, columns: Columns, record: CsvRecord, width: number, at: string): Parsed {
  const { fields, line } = record;
  const login = columns.get(fields, 'LOGIN');
  const refuse = (reason: string): Parsed => ({ ok: false, refusal: { line, login, reason } });
  if (fields.length !== width) return refuse(`${fields.length} fields, the header has ${width}`);
  if (!isValidLogin(login)) return refuse('LOGIN: 2-64 letters, digits, . _ -, starting with a letter');
  const email = columns.get(fields, 'EMAIL');
  if (email !== '' && !isValidEmail(email)) return refuse('EMAIL is not a valid address');
  const mobile = columns.get(fields, 'PERSONAL_MOBILE');
  const phone = mobile === '' ? undefined : normalizePhone(mobile, ctx.settings.smsDefaultRegion);
  if (mobile !== '' && !phone) return refuse('PERSONAL_MOBILE is not a valid phone number');
  const emailVerified = flag(columns.get(fields, 'EMAIL_VERIFIED'), false);
  const phoneVerified = flag(columns.get(fields, 'PHONE_VERIFIED'), false);
  const active = flag(columns.get(fields, 'ACTIVE'), true);
  if (emailVerified === undefined) return refuse('EMAIL_VERIFIED must be Y or N');
  if (phoneVerified === undefined) return refuse('PHONE_VERIFIED must be Y or N');
  if (active === undefined) return refuse('ACTIVE must be Y or N');
  const password = columns.get(fields, 'PASSWORD');
  const kind = password === '' ? undefined : bitrixHashKind(password);
  if (password !== '' && !kind) return refuse('PASSWORD is none of the hash forms Bitrix writes');
  const name = [columns.get(fields, 'NAME'), columns.get(fields, 'LAST_NAME')].filter((part) => part !== '').join(' ');
  if (name.length > MAX_NAME) return refuse(`NAME and LAST_NAME are longer than ${MAX_NAME} characters`);
  const account: Account = {
    id: newId(ctx.random),
    login: login.normalize('NFKC'),
    login_key: loginKey(login),
    name: name === '' ? null : name,
    email: email === '' ? null : email.normalize('NFKC'),
    email_key: email === '' ? null : emailKey(email),
    email_verified_at: email !== '' && emailVerified ? at : null,
    phone: phone ?? null,
    phone_verified_at: phone && phoneVerified ? at : null,
    password_hash: password === '' ? null : `${BITRIX_PREFIX}${password}`,
    password_changed_at: password === '' ? null : at,
    status: active ? 'active' : 'disabled',
    locale: columns.get(fields, 'LANGUAGE_ID').toLowerCase() === 'en' ? 'en' : 'ru',
    created_at: at,
    updated_at: at,
    must_change_password: 0,
    failures_reset_at: null,
  };
  return { ok: true, candidate: { line, account, bareMd5: kind === 'md5' } };
}

/** Refuses lines whose login, e-mail or phone an earlier line of the file already has. */
function refuseRepeats(parsed: Parsed[]): Parsed[] {
  const seen = new Map<string, number>();
  return parsed.map((entry) => {
    if (!entry.ok) return entry;
    const { account, line } = entry.candidate;
    const keys: Array<[string, string | null]> = [['login', account.login_key], ['e-mail', account.email_key], ['phone', account.phone]];
    for (const [what, key] of keys) {
      const earlier = key === null ? undefined : seen.get(`${what} ${key}`);
      if (earlier !== undefined) return { ok: false, refusal: { line, login: account.login, reason: `${what} repeats line ${earlier}` } };
    }
    for (const [what, key] of keys) if (key !== null) seen.set(`${what} ${key}`, line);
    return entry;
  });
}

/** Why the database refuses the account (a login, e-mail or phone some account already has), if it does. */
async function takenReason(db: Executor, account: Account): Promise<string | undefined> {
  if (await findAccountByIdentifier(db, { kind: 'login', key: account.login_key })) return `login ${account.login} is taken`;
  if (account.email_key && (await findAccountByIdentifier(db, { kind: 'email', key: account.email_key }))) return `e-mail ${account.email} is taken`;
  if (account.phone && (await findAccountByIdentifier(db, { kind: 'phone', key: account.phone }))) return `phone ${account.phone} is taken`;
  return undefined;
}

/** Stores one batch in one transaction; the refusals it found, or a thrown error when the transaction failed. */
async function storeBatch(ctx: FlowContext, batch: Candidate[], portal: Portal | undefined, at: string): Promise<{ stored: Candidate[]; refused: RefusedLine[] }> {
  return ctx.store.db.transaction().execute(async (tx) => {
    const stored: Candidate[] = [];
    const refused: RefusedLine[] = [];
    for (const candidate of batch) {
      const { account, line } = candidate;
      const taken = await takenReason(tx, account);
      if (taken) {
        refused.push({ line, login: account.login, reason: taken });
        continue;
      }
      await insertAccount(tx, account);
      if (portal) await upsertMembership(tx, { account_id: account.id, portal_id: portal.id, role: 'employee', status: 'active', created_at: at });
      await recordAudit(ctx, tx, { action: 'account.created', actorKind: 'operator', targetAccountId: account.id, portalId: portal?.id ?? null, detail: 'bitrix import' });
      stored.push(candidate);
    }
    return { stored, refused };
  });
}

export async function importBitrixUsers(ctx: FlowContext, input: { csv: string; portalSlug?: string | undefined }): Promise<BitrixImportReport> {
  let records: CsvRecord[];
  try {
    records = parseCsv(input.csv);
  } catch (error) {
    if (error instanceof CsvError) throw new AppError('invalid_request', { field: 'file' }, error.message);
    throw error;
  }
  const [header, ...rows] = records;
  const columns = new Columns(header?.fields ?? []);
  if (!header || !columns.has('LOGIN')) throw new AppError('invalid_request', { field: 'file' }, 'the first line must name the columns, LOGIN among them');
  const portal = input.portalSlug === undefined ? undefined : await findPortalBySlug(ctx.store.db, input.portalSlug);
  if (input.portalSlug !== undefined && !portal) throw new AppError('not_found', { field: 'portal' }, `portal ${input.portalSlug} does not exist`);

  const at = iso(ctx.clock.now());
  const parsed = refuseRepeats(rows.map((record) => parseLine(ctx, columns, record, header.fields.length, at)));
  const report: BitrixImportReport = { portal: portal?.slug ?? null, imported: 0, disabled: 0, withoutPassword: 0, refused: [], bareMd5: [] };
  const candidates: Candidate[] = [];
  for (const entry of parsed) {
    if (entry.ok) candidates.push(entry.candidate);
    else report.refused.push(entry.refusal);
  }
  for (let start = 0; start < candidates.length; start += BATCH) {
    const batch = candidates.slice(start, start + BATCH);
    let results: Array<{ stored: Candidate[]; refused: RefusedLine[] }>;
    try {
      results = [await storeBatch(ctx, batch, portal, at)];
    } catch {
      // Something the checks could not see (another process took a login meanwhile): the batch rolled
      // back whole, so its lines go again one transaction each, and only the failing ones are refused.
      results = [];
      for (const candidate of batch) {
        try {
          results.push(await storeBatch(ctx, [candidate], portal, at));
        } catch (error) {
          results.push({ stored: [], refused: [{ line: candidate.line, login: candidate.account.login, reason: `not stored: ${(error as Error).message.split('\n')[0] ?? ''}` }] });
        }
      }
    }
    for (const { stored, refused } of results) {
      report.refused.push(...refused);
      for (const { account, bareMd5 } of stored) {
        report.imported += 1;
        if (account.status === 'disabled') report.disabled += 1;
        if (account.password_hash === null) report.withoutPassword += 1;
        if (bareMd5) report.bareMd5.push(account.login);
      }
    }
  }
  report.refused.sort((a, b) => a.line - b.line);
  return report;
}
