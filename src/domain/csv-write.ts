/**
 * CSV for spreadsheets (RFC 4180: quotes around a cell with a quote, separator or line break, quotes doubled;
 * CRLF between rows). A cell that starts with = + - @ (or a tab or CR) would run as a formula in Excel or
 * LibreOffice ("CSV injection"), so it gets a leading apostrophe, which spreadsheets show as text.
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",;\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows to a CSV document, with a UTF-8 BOM so spreadsheets read Cyrillic right. */
export function toCsv(rows: Array<Array<string | number | null | undefined>>): string {
  return `\uFEFF${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** A `YYYY-MM-DD` day that exists (2026-02-30 does not), or undefined. */
export function parseDay(text: string | undefined): string | undefined {
  if (text === undefined || !/^\d{4}-\d\d-\d\d$/.test(text)) return undefined;
  const date = new Date(`${text}T00:00:00.000Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text ? text : undefined;
}
