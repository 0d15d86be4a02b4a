import { spawn } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve('bin/latchkey.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the command was still running after `timeoutMs` and was stopped (a `start` that did not refuse). */
  timedOut: boolean;
}

export interface CliOptions {
  stdin?: string;
  /** Working folder; the data folder by default. */
  cwd?: string;
  /** Stop the command (SIGTERM) after this long; 60 s by default. */
  timeoutMs?: number;
}

/** Runs `node bin/latchkey.js <args>` as a newcomer would, with `env` over this process's environment. */
export function latchkey(env: Record<string, string>, args: string[], options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env, LATCHKEY_LOG_LEVEL: 'warn' },
      cwd: options.cwd ?? env.LATCHKEY_DATA_DIR,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
