import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CsvError, detectSeparator, parseCsv } from '../../src/domain/csv.js';

describe('CSV', () => {
  it('reads quotes, commas and line breaks inside fields, doubled quotes, CRLF and a BOM', () => {
    const text = '\uFEFFLOGIN,NAME,NOTE\r\nanna,"Smith, Anna","said ""hi"""\r\nboris,"two\nlines",\r\n\r\nvera,Vera,x';
    assert.deepEqual(parseCsv(text), [
      { line: 1, fields: ['LOGIN', 'NAME', 'NOTE'] },
      { line: 2, fields: ['anna', 'Smith, Anna', 'said "hi"'] },
      { line: 3, fields: ['boris', 'two\nlines', ''] },
      { line: 6, fields: ['vera', 'Vera', 'x'] },
    ]);
  });

  it('detects the separator from the header row', () => {
    assert.equal(detectSeparator('LOGIN;EMAIL;NAME\na,b;c'), ';');
    assert.equal(detectSeparator('LOGIN,EMAIL\n'), ',');
    assert.equal(detectSeparator('LOGIN\tEMAIL\n'), '\t');
    assert.equal(detectSeparator('"A;B",C\n'), ',');
    assert.deepEqual(parseCsv('LOGIN;NAME\nanna;"Smith; Anna, Jr."\n').map((r) => r.fields), [['LOGIN', 'NAME'], ['anna', 'Smith; Anna, Jr.']]);
  });

  it('refuses a quoted field left open, naming its line', () => {
    assert.throws(() => parseCsv('LOGIN,NAME\nanna,"Anna\n'), (error: unknown) => error instanceof CsvError && error.line === 2);
  });
});
