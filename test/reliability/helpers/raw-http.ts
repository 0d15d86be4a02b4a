// Raw HTTP/1.1 over a TCP socket on 127.0.0.1: for requests no well-behaved client would send (invalid
// UTF-8 in the request line, oversized headers, lying Content-Length, half a body). Always bounded in time.
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection without answering. */
  closedWithoutAnswer: boolean;
}

export interface RawOptions {
  /** Fail (as a hang) when there is no complete answer by then. */
  timeoutMs?: number;
  /**
   * Half-close our side after writing. Off by default: Node's HTTP server gives up on a request whose client
   * sent FIN before the answer was ready, and a real client waits for the answer (`Connection: close`).
   */
  endAfterWrite?: boolean;
}

/** Parses the first response in `data`, or returns undefined while it is incomplete. */
export function parseResponse(data: Buffer): RawResponse | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = data.subarray(end + 4);
  if (headers['transfer-encoding']?.includes('chunked')) {
    const chunks: Buffer[] = [];
    let rest = body;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      if (lineEnd < 0) return undefined;
      const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) return undefined;
      if (size === 0) break;
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      rest = rest.subarray(lineEnd + 2 + size + 2);
    }
    body = Buffer.concat(chunks);
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (body.length < length) return undefined;
    body = body.subarray(0, length);
  } else if (status !== 204 && status !== 304) {
    return undefined; // read until close
  }
  return { status, headers, body: body.toString('utf8'), closedWithoutAnswer: false };
}

/** Sends `request` (written in pieces if an array) and resolves with the first answer. */
export function rawRequest(port: number, request: Buffer | string | Array<Buffer | string>, options: RawOptions = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (result: RawResponse | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(() => finish(new Error(`hang: no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const parsed = parseResponse(data);
      if (parsed) finish(parsed);
    });
    // The server may answer (413, 431) and close while we are still writing: the answer is what counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (data.length > 0) {
        const end = data.indexOf('\r\n\r\n');
        const parsed = parseResponse(data) ?? (end >= 0 ? parseResponse(Buffer.concat([data.subarray(0, end), Buffer.from(`\r\ncontent-length: ${data.length - end - 4}\r\n\r\n`), data.subarray(end + 4)])) : undefined);
        if (parsed) return finish(parsed);
      }
      finish({ status: 0, headers: {}, body: '', closedWithoutAnswer: true });
    });
    socket.on('connect', () => {
      for (const part of Array.isArray(request) ? request : [request]) socket.write(part);
      if (options.endAfterWrite) socket.end();
    });
  });
}

/** A request with a body and a correct Content-Length. */
export function withBody(method: string, path: string, contentType: string | undefined, body: Buffer | string, extraHeaders = ''): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const type = contentType === undefined ? '' : `Content-Type: ${contentType}\r\n`;
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${type}Content-Length: ${bytes.length}\r\n${extraHeaders}Connection: close\r\n\r\n`, 'latin1'), bytes]);
}

/** A GET whose request line is written byte for byte (latin1), so invalid UTF-8 reaches the server as is. */
export function get(path: string, extraHeaders = ''): Buffer {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extraHeaders}Connection: close\r\n\r\n`, 'latin1');
}
