import { Writable } from 'node:stream';

/**
 * Log lines for a person at a terminal (LATCHKEY_LOG_FORMAT=pretty, or `auto` with a terminal attached):
 * pino's JSON, already redacted, rewritten as `12:04:05 INFO  request GET /login 200 3ms` plus the other
 * fields as key=value. Machines (and files, pipes, journald) keep getting one JSON object per line.
 */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields every line has, or that the head of the line already shows. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'req', 'res', 'ms', 'reqId']);

export function prettyLine(json: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = typeof entry['level'] === 'number' ? entry['level'] : 30;
  const time = typeof entry['time'] === 'number' ? new Date(entry['time']).toISOString().slice(11, 19) : '';
  const label = LEVELS[level] ?? String(level);
  const head = colour ? `\u001b[${COLOURS[level] ?? '0'}m${label}\u001b[0m` : label;
  const req = entry['req'] as { method?: string; url?: string } | undefined;
  const res = entry['res'] as { statusCode?: number } | undefined;
  const request = req ? ` ${req.method ?? ''} ${req.url ?? ''}${res?.statusCode ? ` ${res.statusCode}` : ''}${typeof entry['ms'] === 'number' ? ` ${entry['ms']}ms` : ''}` : '';
  const rest = Object.entries(entry)
    .filter(([key]) => !SHOWN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${head} ${String(entry['msg'] ?? '')}${request}${rest ? ` ${rest}` : ''}`;
}

/** A destination for pino that writes pretty lines to `out`. */
export function prettyDestination(out: NodeJS.WritableStream & { isTTY?: boolean }): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) out.write(`${prettyLine(line, out.isTTY === true)}\n`);
      callback();
    },
  });
}
