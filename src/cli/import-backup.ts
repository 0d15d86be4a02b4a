import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Deps } from '../deps.js';
import { importBitrixUsers, type BitrixImportReport } from '../flows/import-bitrix.js';
import { backupSqlite, BackupError, restoreSqlite } from '../store/backup.js';
import { sqliteFileOf } from '../store/server-lock.js';

/** `latchkey import bitrix`, `latchkey backup`, `latchkey restore`: moving in and keeping the data safe. */

export async function runBitrixImport(deps: Deps, options: { file: string; portal?: string | undefined; json: boolean }): Promise<number> {
  let csv: string;
  try {
    csv = fs.readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new BackupError(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  // The box edition has one portal: its people join it unless told otherwise.
  const portalSlug = options.portal ?? (deps.config.edition === 'box' ? deps.config.boxPortal.slug : undefined);
  const report = await importBitrixUsers(deps, { csv, portalSlug });
  console.log(options.json ? JSON.stringify(report, null, 2) : describeReport(report));
  // Some lines refused: the people on them are not in, and a script should notice.
  return report.refused.length > 0 ? 1 : 0;
}

export function describeReport(report: BitrixImportReport): string {
  const lines = [
    `imported: ${report.imported}${report.portal ? ` (members of ${report.portal})` : ' (no portal: add --portal <slug> for memberships)'}`,
    `  disabled (ACTIVE=N): ${report.disabled}`,
    `  without a password: ${report.withoutPassword}`,
    `refused: ${report.refused.length}`,
    ...report.refused.map((r) => `  line ${r.line}${r.login ? ` (${r.login})` : ''}: ${r.reason}`),
  ];
  if (report.bareMd5.length > 0) {
    lines.push(`still on a bare md5 password hash (ask them to sign in soon, or reset their passwords): ${report.bareMd5.length}`);
    lines.push(...report.bareMd5.map((login) => `  ${login}`));
  }
  return lines.join('\n');
}

const POSTGRES_BACKUP = 'PostgreSQL: back up with pg_dump -Fc and restore with pg_restore (README, "Backups")';

export async function runBackup(config: Config, to: string): Promise<void> {
  const file = sqliteFileOf(config.databaseUrl);
  if (!file) throw new BackupError(POSTGRES_BACKUP);
  const target = path.resolve(to);
  await backupSqlite(file, target);
  console.log(`backup of ${file} written to ${target}`);
  if (!config.secret) console.log(`keep ${path.resolve(config.dataDir, 'secret')} with it (or set LATCHKEY_SECRET): queued messages are sealed with it`);
}

export async function runRestore(config: Config, from: string, force: boolean): Promise<void> {
  const file = sqliteFileOf(config.databaseUrl);
  if (!file) throw new BackupError(POSTGRES_BACKUP);
  await restoreSqlite(file, path.resolve(from), { force });
  console.log(`${file} restored from ${path.resolve(from)}`);
}
