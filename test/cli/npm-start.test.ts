// Issue 14, item 2: stopping `npm start` (or `npm exec`, as `npx latchkey start` runs) by npm's PID stops the
// server too; before, npm's shell sat between them and the server kept running, re-parented.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../support/wait.js';

const SECRET = 'npm-start-secret-npm-start-secret-0123456789';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts npm with `args` and resolves with the server's PID from its "latchkey ready" log line. */
async function startUnderNpm(args: string[], dataDir: string): Promise<{ npm: ChildProcess; server: number; output: () => string }> {
  const npm = spawn('npm', args, {
    cwd: path.resolve('.'),
    env: { ...process.env, LATCHKEY_DATA_DIR: dataDir, LATCHKEY_SECRET: SECRET, LATCHKEY_PORT: '0', LATCHKEY_MANAGEMENT_PORT: '0', LATCHKEY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  npm.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let server = 0;
  await waitUntil(() => {
    const ready = /\{[^\n]*"msg":"latchkey ready"[^\n]*\}/.exec(output);
    if (ready) server = (JSON.parse(ready[0]) as { pid: number }).pid;
    return server !== 0 || npm.exitCode !== null;
  }, 60_000, 100).catch(() => undefined);
  assert.ok(server, `the server did not start under npm ${args.join(' ')}:\n${output}`);
  return { npm, server, output: () => output };
}

describe('stopping npm stops the server', () => {
  let dataDir: string;
  const servers: number[] = [];
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-npm-start-'));
  });
  after(() => {
    // A server the fix failed to stop must not outlive the test.
    for (const pid of servers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM to the PID of `npm start` stops the server', async () => {
    // --ignore-scripts skips `prestart` (the bundle build) but runs `start` itself.
    const { npm, server, output } = await startUnderNpm(['start', '--ignore-scripts'], dataDir);
    servers.push(server);
    npm.kill('SIGTERM');
    await waitUntil(() => !alive(server), 10_000, 100).catch(() => undefined);
    assert.ok(!alive(server), `the server outlived npm:\n${output()}`);
  });

  it('SIGTERM to the PID of `npm exec` (as `npx latchkey start` runs) stops the server behind its shell', async () => {
    const { npm, server, output } = await startUnderNpm(['exec', '--offline', '-c', 'node bin/latchkey.js start'], dataDir);
    servers.push(server);
    // npm passes SIGTERM to its shell, which dies without passing it on: the server is left re-parented.
    npm.kill('SIGTERM');
    await waitUntil(() => !alive(server), 10_000, 100).catch(() => undefined);
    assert.ok(!alive(server), `the server outlived npm exec:\n${output()}`);
  });
});
