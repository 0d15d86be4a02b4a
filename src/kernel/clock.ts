/** The only source of "now" for services; tests pass a FakeClock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Adds milliseconds to a date without mutating it. */
export function addMs(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

/** Timestamps are stored as ISO-8601 UTC strings: they sort and compare the same on SQLite and PostgreSQL. */
export function iso(date: Date): string {
  return date.toISOString();
}
