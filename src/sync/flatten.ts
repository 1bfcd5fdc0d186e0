/**
 * Turning Act! records into flat rows: nested objects joined with `_` (original case kept),
 * arrays as JSON text, date-times as UTC ISO-8601 ending in `Z`, every column typed.
 *
 * Rows are keyed by *source path*, not by column name: the record's key, nested keys joined
 * with `/` (a `~` inside a key written `~0`, a `/` `~1`, a NUL `~2`, as in JSON Pointer), so two
 * source fields whose flattened names are equal (`{"zz":{"yy":1}}` and `{"zz_yy":2}`) stay
 * apart. The sink maps each path to a column (see `src/sink/_columns.ts`).
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { parseDateTimeParts, parseUtc } from "../core/time.ts";
import {
  type ColumnType,
  escapeSegment,
  type FlatPage,
  type FlatRow,
  widenType,
} from "../sink/sink.ts";

/**
 * Normalise a valid date-time (ISO-8601, also with `t` or a space for `T`: see
 * {@linkcode parseDateTimeParts}) to UTC ending in `Z`
 * (`2023-08-17 15:50:18+02:00` → `2023-08-17T13:50:18Z`); a value without an offset is UTC;
 * fractional seconds are kept as given (`.1234567` stays). Returns null when `text` is not a
 * valid date-time (`2023-02-30T00:00:00Z` is not) or its UTC year is outside 0000–9999.
 */
export function normalizeDateTime(text: string): string | null {
  const parts = parseDateTimeParts(text);
  if (parts === null) return null;
  const iso = new Date(parts.ms).toISOString();
  if (iso.length !== 24) return null; // year outside 0000–9999 after the shift
  return iso.slice(0, 19) + (parts.fraction ? `.${parts.fraction}` : "") + "Z";
}

/**
 * Parse a date-time value from a record to epoch ms (fraction cut to ms), or null: the shapes
 * {@linkcode parseDateTimeParts} reads, a value without an offset as UTC on any host; no other
 * shape is guessed at.
 */
export function parseDateTime(value: unknown): number | null {
  return typeof value === "string" ? parseUtc(value) : null;
}

/** Objects nested deeper than this fail their record (no column name could be that long). */
export const MAX_DEPTH = 64;

/** Largest magnitude an INTEGER/bigint column holds (2^63). */
const INT64_LIMIT = 2n ** 63n;

/** Options for {@linkcode flattenPage}. */
export interface FlattenOptions {
  /** The table the records belong to, named in the error for a record that cannot be stored. */
  table?: string;
}

/** Thrown for a record that cannot be stored; names the table, the record id and the field path. */
function unstorable(options: FlattenOptions, id: unknown, path: string, why: string): Error {
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  const table = options.table ? ` of table "${options.table}"` : "";
  return new RangeError(`Cannot store record "${String(id)}"${table}: field "${shown}" ${why}`);
}

/**
 * Flatten one record into `row`, recording each non-null column's type in `types`
 * (widened when the page already saw another type). Throws a TypeError for a record without
 * id and a RangeError (naming table, id and field path) for one that cannot be stored.
 */
export function flattenRecord(
  record: Record<string, unknown>,
  types: Map<string, ColumnType>,
  options: FlattenOptions = {},
): FlatRow {
  const id = record.id;
  if (typeof id !== "string" && typeof id !== "number" && typeof id !== "bigint") {
    throw new TypeError(
      `Record has no usable 'id': ${JSON.stringify(record, bigintAsText).slice(0, 200)}`,
    );
  }
  const row = { id: String(id) } as FlatRow;
  flattenInto(record, "", row, types, 0, id, options);
  row.id = String(id);
  return row;
}

/** Source paths of nested keys, per prefix: the same strings every time (cheap as keys). */
const PATHS = new Map<string, Map<string, string>>();

function sourcePath(prefix: string, key: string): string {
  let paths = PATHS.get(prefix);
  if (paths === undefined) PATHS.set(prefix, paths = new Map());
  let path = paths.get(key);
  if (path === undefined) {
    if (paths.size > 10_000) paths.clear(); // bounded: tenants' field names are few
    const segment = /[~/\0]/.test(key) ? escapeSegment(key) : key;
    paths.set(key, path = prefix ? `${prefix}/${segment}` : segment);
  }
  return path;
}

function flattenInto(
  object: Record<string, unknown>,
  prefix: string,
  row: FlatRow,
  types: Map<string, ColumnType>,
  depth: number,
  id: unknown,
  options: FlattenOptions,
): void {
  for (const key in object) {
    const value = object[key];
    const column = sourcePath(prefix, key);
    if (value === null || value === undefined) {
      row[column] = null;
      continue;
    }
    let type: ColumnType;
    let flat: string | number | boolean | bigint;
    switch (typeof value) {
      case "string": {
        const date = normalizeDateTime(value);
        if (date === null) {
          type = "text";
          flat = value;
        } else {
          // More than microseconds (a 7-digit .NET fraction) does not fit every date-time
          // column: such a value is kept exactly, as text.
          const dot = date.indexOf(".");
          type = dot < 0 || !/[1-9]/.test(date.slice(dot + 7, -1)) ? "datetime" : "text";
          flat = date;
        }
        break;
      }
      case "number":
        type = Number.isInteger(value) && Math.abs(value) < 2 ** 63 ? "integer" : "real";
        flat = value;
        break;
      case "bigint":
        // Exact integers beyond 2^53 (see `parseExactJson`): integer columns hold them up
        // to int64; larger ones are kept as text.
        if (value >= INT64_LIMIT || value < -INT64_LIMIT) {
          type = "text";
          flat = String(value);
        } else {
          type = "integer";
          flat = value;
        }
        break;
      case "boolean":
        type = "boolean";
        flat = value;
        break;
      case "object":
        if (Array.isArray(value)) {
          type = "json";
          try {
            flat = arrayJson(value);
          } catch (error) {
            const why = errorMessage(error);
            throw unstorable(options, id, column, `cannot be stored as JSON: ${why}`);
          }
          break;
        }
        if (depth >= MAX_DEPTH) {
          throw unstorable(options, id, column, `is nested more than ${MAX_DEPTH} levels deep`);
        }
        flattenInto(value as Record<string, unknown>, column, row, types, depth + 1, id, options);
        continue;
      default:
        type = "text";
        flat = String(value);
    }
    row[column] = flat;
    const seen = types.get(column);
    if (seen !== type) types.set(column, seen === undefined ? type : widenType(seen, type));
  }
}

/** An array as JSON text; exact big integers inside become strings of their digits. */
function arrayJson(value: unknown[]): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // a BigInt: rare, so the replacer only then
    return JSON.stringify(value, bigintAsText);
  }
}

/** `JSON.stringify` replacer writing exact big integers as their digits (in a string). */
function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? String(value) : value;
}

/**
 * Flatten a page of records. Later records with the same id replace earlier ones. Row keys and
 * `types` keys are source paths (see the module doc); the record id is `id`.
 */
export function flattenPage(
  records: readonly Record<string, unknown>[],
  options: FlattenOptions = {},
): FlatPage {
  const types = new Map<string, ColumnType>();
  const byId = new Map<string, FlatRow>();
  for (const record of records) {
    const row = flattenRecord(record, types, options);
    byId.set(row.id, row);
  }
  types.delete("id");
  return { rows: [...byId.values()], types };
}
