import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { runningServerPid } from './server-lock.js';

/**
 * `latchkey backup` and `latchkey restore` for the embedded SQLite database. The backup goes through
 * SQLite's online backup API from a connection of its own, so it is a consistent copy even while a server
 * writes (WAL lets it read beside the writer). PostgreSQL has pg_dump and pg_restore for this.
 */

export class BackupError extends Error {}

/** A readable SQLite file that looks like a Latchkey database, or a BackupError saying why not. */
function assertLatchkeyDatabase(file: string): void {
  let database: SQLite.Database | undefined;
  try {
    database = new SQLite(file, { readonly: true, fileMustExist: true });
    const check = database.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`${file} is damaged (quick_check: ${String(check)})`);
    const tables = database.prepare(`select name from sqlite_master where type = 'table' and name in ('accounts', 'kysely_migration')`).all();
    if (tables.length !== 2) throw new BackupError(`${file} is not a Latchkey database`);
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${file} is not a readable SQLite database (${(error as Error).message})`);
  } finally {
    database?.close();
  }
}

/** Copies `from` (open by this process only for the copy) into `to` through a temporary file, whole or not at all. */
async function copyOnline(from: string, to: string): Promise<void> {
  const temporary = `${to}.partial`;
  fs.rmSync(temporary, { force: true });
  const source = new SQLite(from, { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    // Every page in one step, under one read transaction: a consistent snapshot that a server's writes
    // between steps cannot send back to the start (WAL lets them go on meanwhile).
    await source.backup(temporary, { progress: () => 0x7fffffff });
  } finally {
    source.close();
  }
  try {
    assertLatchkeyDatabase(temporary);
    fs.renameSync(temporary, to);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

export async function backupSqlite(databaseFile: string, to: string): Promise<void> {
  if (!fs.existsSync(databaseFile)) throw new BackupError(`no database at ${databaseFile}`);
  if (fs.existsSync(to)) throw new BackupError(`${to} exists: choose a new file`);
  await copyOnline(databaseFile, to);
}

/** Replaces the database with a backup; never while a server runs on it. */
export async function restoreSqlite(databaseFile: string, from: string, options: { force: boolean }): Promise<void> {
  const pid = runningServerPid(databaseFile);
  if (pid !== undefined) throw new BackupError(`a server (process ${pid}) runs on ${databaseFile}: stop it first`);
  assertLatchkeyDatabase(from);
  if (fs.existsSync(databaseFile) && !options.force) throw new BackupError(`${databaseFile} exists: add --force to replace it`);
  const incoming = `${databaseFile}.restoring`;
  fs.mkdirSync(path.dirname(databaseFile), { recursive: true });
  await copyOnline(from, incoming);
  // The old file's write-ahead log belongs to the old file: left beside the new one, SQLite would replay it.
  fs.rmSync(`${databaseFile}-wal`, { force: true });
  fs.rmSync(`${databaseFile}-shm`, { force: true });
  fs.renameSync(incoming, databaseFile);
}
