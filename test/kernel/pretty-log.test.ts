import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { loggerOptions } from '../../src/kernel/logger.js';
import { prettyDestination, prettyLine } from '../../src/kernel/pretty-log.js';

/** Issue 14 item 13: logs a person can read at a terminal, with the same secrets cut out as the JSON ones. */
describe('pretty logs', () => {
  it('writes a request as time, level, message, method, path, status and duration', () => {
    const line = prettyLine(JSON.stringify({ level: 30, time: Date.UTC(2026, 10, 29, 12, 4, 5), pid: 1, hostname: 'h', msg: 'request', req: { method: 'GET', url: '/login' }, res: { statusCode: 200 }, ms: 3 }), false);
    assert.equal(line, '12:04:05 INFO  request GET /login 200 3ms');
  });

  it('keeps other fields as key=value and colours the level only at a terminal', () => {
    const json = JSON.stringify({ level: 50, time: 0, msg: 'request failed', code: 'internal', detail: { a: 1 } });
    assert.equal(prettyLine(json, false), '00:00:00 ERROR request failed code=internal detail={"a":1}');
    assert.ok(prettyLine(json, true).includes('\u001b[31mERROR\u001b[0m'));
    assert.equal(prettyLine('not json', false), 'not json');
  });

  it('rule 14: what pino redacts stays redacted in the pretty lines', async () => {
    const out: string[] = [];
    const sink = Object.assign(new Writable({ write: (chunk: Buffer, _e, cb) => (out.push(chunk.toString('utf8')), cb()) }), { isTTY: false });
    const logger = pino(loggerOptions('info'), prettyDestination(sink));
    const token = 'Zq8x_3mN-vR2tY7uI0oP5aS9dF1gH4jK6lL8zX2cV5b';
    logger.info({ req: { method: 'GET', url: `/recover/email/${token}` }, body: { password: 'hunter2-hunter2' } }, 'request');
    logger.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const text = out.join('');
    assert.ok(text.includes('INFO  request GET /recover/email/[redacted]'), text);
    assert.doesNotMatch(text, new RegExp(token));
    assert.doesNotMatch(text, /hunter2/);
  });
});
