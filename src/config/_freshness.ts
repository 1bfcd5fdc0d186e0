/**
 * The `max_staleness` key: how long each table may go without a successful sync before `/health`
 * says `stale` naming it. An object of table → duration (`{"history": "2h"}`) where `"*"` is the
 * default of every other table, or one duration for every table (`"6h"`). A duration is a number
 * of seconds or text like `90s`, `30m`, `2h`, `1d`.
 *
 * @module
 */
import * as v from "valibot";
import { TABLE_NAMES, type TableName } from "../act/tables.ts";
import { closest } from "../core/closest.ts";

/** Per table (and `"*"`, every other table), the longest time without a successful sync, in s. */
export type MaxStaleness = Partial<Record<TableName | "*", number>>;

const UNITS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600, d: 86_400 };
/** Bounds: a minute, and 366 days (timers stay far below 2^31-1 ms). */
const MIN_SECONDS = 60;
const MAX_SECONDS = 366 * 86_400;

/** A duration in seconds, or undefined when it is not one. */
export function parseDuration(input: unknown): number | undefined {
  if (typeof input === "number") return Number.isFinite(input) ? input : undefined;
  if (typeof input !== "string") return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?$/i.exec(input.trim());
  return m ? Number(m[1]) * UNITS[(m[2] ?? "s").toLowerCase()] : undefined;
}

/** A duration for messages: `2 h`, `90 min`, `1 d 6 h`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 2 * 3600) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86_400) {
    const m = Math.round(s / 60);
    return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
  }
  const h = Math.round(s / 3600);
  return h % 24 ? `${Math.floor(h / 24)} d ${h % 24} h` : `${h / 24} d`;
}

function parse(input: unknown): MaxStaleness | string {
  let value = input;
  if (typeof value === "string" && value.trim().startsWith("{")) {
    try {
      value = JSON.parse(value);
    } catch {
      return `'max_staleness' must be a JSON object like {"history": "2h", "*": "1d"}`;
    }
  }
  const entries: [string, unknown][] = value && typeof value === "object" && !Array.isArray(value)
    ? Object.entries(value)
    : [["*", value]];
  const out: MaxStaleness = {};
  const errors: string[] = [];
  for (const [name, duration] of entries) {
    if (name !== "*" && !(TABLE_NAMES as readonly string[]).includes(name)) {
      const guess = closest(name, TABLE_NAMES);
      errors.push(
        `'max_staleness' has an unknown table ${JSON.stringify(name)}: use a table name or "*" ` +
          `for every other table` + (guess ? `; did you mean "${guess}"?` : ""),
      );
      continue;
    }
    const seconds = parseDuration(duration);
    if (seconds === undefined || seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
      const key = name === "*" ? "max_staleness" : `max_staleness.${name}`;
      errors.push(
        `'${key}' must be a duration from 1m to 366d like "30m", "2h" or "1d" (or seconds): ` +
          `current value is ${JSON.stringify(duration)}`,
      );
      continue;
    }
    out[name as TableName | "*"] = seconds;
  }
  return errors.length ? errors.join("\n  - ") : out;
}

/** `max_staleness`: per-table (and `"*"`) limits in seconds; none by default. */
export const maxStalenessKey = v.optional(
  v.pipe(
    v.unknown(),
    v.check(
      (input) => typeof parse(input) !== "string",
      (issue) => parse(issue.input) as string,
    ),
    v.transform((input) => parse(input) as MaxStaleness),
  ),
  () => ({}),
);
