/**
 * UTC time as text, the one formatting every layer uses: state file, OData filters, config
 * defaults and the status page.
 *
 * @module
 */

/**
 * Epoch milliseconds as `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` only when not whole: the form of
 * the state file and of OData date-time literals (`2024-01-01T00:00:00Z`).
 *
 * @throws {RangeError} for a time outside what `Date` holds.
 */
export function formatUtc(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? iso.slice(0, -5) + "Z" : iso;
}

/** Epoch milliseconds for people: `YYYY-MM-DD HH:MM:SS UTC` (whole seconds). */
export function formatUtcForDisplay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " UTC";
}

/**
 * The host's time zone, in which the cron schedules run: its IANA name (`Europe/Berlin`) when the
 * runtime knows it, else its current offset (`UTC+01:00`).
 */
export function localTimeZone(): string {
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return name || utcOffset(Date.now());
}

/** The host's offset from UTC at `ms`: `UTC+01:00`, `UTC-05:00`, `UTC+00:00`. */
export function utcOffset(ms: number): string {
  const minutes = -new Date(ms).getTimezoneOffset();
  const abs = Math.abs(minutes);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `UTC${minutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * Epoch milliseconds in the host's local time, for the schedule: `YYYY-MM-DD HH:MM local time,
 * Europe/Berlin, UTC+01:00`.
 */
export function formatLocalForDisplay(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const zone = localTimeZone();
  const offset = utcOffset(ms);
  return `${day} ${pad(d.getHours())}:${pad(d.getMinutes())} local time, ` +
    (zone === offset ? offset : `${zone}, ${offset}`);
}

/**
 * The date-time shapes read: `YYYY-MM-DD`, then `T`, `t` or a space, then `HH:MM`, optional
 * `:SS`, optional fraction of any length, optional `Z`/`z` or `±HH:MM`/`±HHMM`.
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?$/;

/** Days in each month of a non-leap year. */
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A parsed, valid date-time: whole seconds since the epoch (UTC) and the fraction. */
export interface DateTimeParts {
  /** Epoch ms of the whole second, in UTC (a value without an offset is UTC). */
  ms: number;
  /** The fraction digits as given (without the dot), or "". */
  fraction: string;
}

/**
 * Parse a date-time strictly, on any host the same: `2024-06-01T12:00:00`, `2024-06-01 12:00`,
 * `2024-06-01t12:00:00.1234567890`, with `Z` or an offset or without one. A value without an
 * offset is UTC; every field must be in range (no February 30th, no hour 24). Null for anything
 * else: no shape falls back to `Date.parse`, which reads an offset-less value as host-local time.
 *
 * @example
 * ```ts
 * parseDateTimeParts("2024-06-01 02:00:03.5+02:00"); // { ms: Date.UTC(2024, 5, 1, 0, 0, 3), fraction: "5" }
 * ```
 */
export function parseDateTimeParts(text: string): DateTimeParts | null {
  // Cheap shape check first: most strings are not dates ("YYYY-MM-DD?HH:MM…").
  if (text.length < 16 || text.charCodeAt(4) !== 45 || text.charCodeAt(13) !== 58) return null;
  const m = DATE_TIME.exec(text);
  if (m === null) return null;
  const year = +m[1], month = +m[2], day = +m[3], hour = +m[4], minute = +m[5];
  const second = m[6] === undefined ? 0 : +m[6];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1) return null;
  if (day > (month === 2 && leap ? 29 : DAYS[month - 1])) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offset = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const oh = +zone.slice(1, 3), om = +zone.slice(-2);
    if (oh > 23 || om > 59) return null;
    offset = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // years below 100 stay as given
  date.setUTCHours(hour, minute, second, 0);
  return { ms: date.getTime() - offset, fraction: m[7] ?? "" };
}

/**
 * A date-time (see {@linkcode parseDateTimeParts}) as epoch ms, the fraction cut to ms; null
 * when it is not one.
 */
export function parseUtc(text: string): number | null {
  const parts = parseDateTimeParts(text);
  if (parts === null) return null;
  return parts.ms + (parts.fraction ? +(parts.fraction + "00").slice(0, 3) : 0);
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`). */
const HTTP_DATE =
  /^[A-Za-z]{3,9}, (\d{1,2})[ -]([A-Za-z]{3})[ -](\d{2}|\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:GMT|UTC|\+0000)$/;
/** asctime (`Sun Nov  6 08:49:37 1994`), which is GMT too. */
const ASCTIME = /^[A-Za-z]{3} ([A-Za-z]{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * An HTTP date (`Date`, `Retry-After`, `X-RateLimit-Reset`) as epoch ms: the three forms of RFC
 * 9110, all GMT, or a date-time {@linkcode parseUtc} reads. Null for anything else, never
 * host-local time.
 */
export function parseHttpDate(text: string): number | null {
  const value = text.trim();
  let day: string, month: string, year: string, time: string[];
  const http = HTTP_DATE.exec(value);
  const asc = http ? null : ASCTIME.exec(value);
  if (http) {
    [day, month, year] = [http[1], http[2], http[3]];
    time = [http[4], http[5], http[6]];
    if (year.length === 2) year = String(+year < 70 ? 2000 + +year : 1900 + +year);
  } else if (asc) {
    [month, day, year] = [asc[1], asc[2], asc[6]];
    time = [asc[3], asc[4], asc[5]];
  } else {
    return parseUtc(value);
  }
  const m = MONTHS.indexOf(month.toLowerCase()) + 1;
  if (m === 0) return null;
  const pad = (n: string) => n.padStart(2, "0");
  return parseUtc(`${year}-${pad(String(m))}-${pad(day)}T${time.join(":")}Z`);
}

/**
 * {@linkcode parseUtc} with the contract of `Date.parse` (NaN for text that is not a date-time),
 * without its guesses: never host-local time.
 */
export function utcMs(text: string): number {
  return parseUtc(text) ?? NaN;
}
