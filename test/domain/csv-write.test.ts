import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvCell, parseDay, toCsv } from '../../src/domain/csv-write.js';
import { parseCsv } from '../../src/domain/csv.js';

describe('CSV export (issue 14, item 10)', () => {
  it('quotes cells with a quote, separator or line break, doubling quotes (RFC 4180)', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('a;b'), '"a;b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(42), '42');
  });

  it('defuses cells a spreadsheet would run as a formula: = + - @, tab, CR at the start', () => {
    for (const cell of ['=1+1', '+7 916', '-2', '@SUM(A1)', '\tx', '\rx']) {
      const out = csvCell(cell);
      assert.ok(out.startsWith("'") || out.startsWith(`"'`), `${JSON.stringify(cell)} → ${JSON.stringify(out)}`);
    }
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('a=b'), 'a=b', 'only the first character matters');
  });

  it('reads back as the same rows with our own parser, after a BOM, CRLF between rows', () => {
    const rows = [['at', 'detail'], ['2026-11-29T10:00:00.000Z', 'x, "y"\nz'], ['', '@home']];
    const text = toCsv(rows);
    assert.ok(text.startsWith('\uFEFF') && text.endsWith('\r\n'));
    assert.deepEqual(parseCsv(text).map((r) => r.fields), [rows[0], rows[1], ['', "'@home"]]);
  });

  it('days: only real YYYY-MM-DD dates', () => {
    assert.equal(parseDay('2026-11-29'), '2026-11-29');
    assert.equal(parseDay('2028-02-29'), '2028-02-29');
    for (const bad of ['2026-02-30', '2026-13-01', '29.11.2026', '2026-1-1', '', undefined]) assert.equal(parseDay(bad), undefined, String(bad));
  });
});
