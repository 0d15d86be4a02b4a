import fs from 'node:fs';
import path from 'node:path';

/**
 * A running `latchkey start` on an embedded SQLite database leaves its process id beside the database file
 * (`<database>.server.pid`), so `latchkey restore` can refuse to swap the file under a live server. A file
 * left by a killed server names a process that no longer exists, and counts for nothing.
 */

export function sqliteFileOf(databaseUrl: string): string | undefined {
  if (!databaseUrl.startsWith('sqlite:')) return undefined;
  const file = databaseUrl.slice('sqlite:'.length);
  return file === ':memory:' ? undefined : path.resolve(file);
}

const pidFileOf = (databaseFile: string) => `${databaseFile}.server.pid`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process id of a live server on this database file, if one runs. */
export function runningServerPid(databaseFile: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(pidFileOf(databaseFile), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : undefined;
}

/** Marks the database as served by this process; the returned function takes the mark away (only its own). */
export function markServing(databaseUrl: string): () => void {
  const file = sqliteFileOf(databaseUrl);
  if (!file) return () => undefined;
  const pidFile = pidFileOf(file);
  fs.mkdirSync(path.dirname(pidFile), { recursive: true });
  fs.writeFileSync(pidFile, `${process.pid}\n`);
  return () => {
    try {
      if (fs.readFileSync(pidFile, 'utf8').trim() === String(process.pid)) fs.rmSync(pidFile);
    } catch {
      // Already gone.
    }
  };
}
