// A throwaway redis-server (Debian's package) on a free loopback port, for tests of shared rate limits.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { freeLoopbackPort } from '../../scripts/free-port.js';
import os from 'node:os';
import path from 'node:path';

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** SIGSTOP: the server keeps its connections but answers nothing (a hung Redis). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Stops the server and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

function findRedisServer(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    const file = path.join(dir, 'redis-server');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw new Error('redis-server not found on PATH: install the Debian package `redis-server` (.ci/run does) to run the shared rate-limit tests');
}

/** One PING over a raw socket; true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts redis-server without persistence in a temp folder and waits until it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  const binary = findRedisServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-redis-'));
  let lastOutput = '';
  // The port is free when we look; if someone takes it first, the server exits and we try another.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freeLoopbackPort();
    const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
    let spawnError: Error | undefined;
    child.on('error', (error) => (spawnError = error));
    const deadline = Date.now() + 15_000;
    let up = false;
    while (!up && Date.now() < deadline && child.exitCode === null && child.signalCode === null && !spawnError) {
      up = await ping(port);
      if (!up) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (up) {
      let stopped = false;
      // A test process killed by its timeout never runs `after`: do not leave the server behind.
      const killOnExit = () => child.kill('SIGKILL');
      process.once('exit', killOnExit);
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        pause: () => child.kill('SIGSTOP'),
        resume: () => child.kill('SIGCONT'),
        async stop() {
          if (stopped) return;
          stopped = true;
          process.removeListener('exit', killOnExit);
          child.kill('SIGCONT');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited(child);
          clearTimeout(timer);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await exited(child);
    lastOutput = spawnError ? spawnError.message : output;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`redis-server did not answer PING:\n${lastOutput}`);
}
