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
import { numberLiteral } from "../act/exact_json.ts";
import {
  type ColumnType,
  escapeSegment,
  type FlatPage,
  type FlatRow,
  storableText,
  UNSTORABLE_CHARS,
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
  /**
   * Called for a record that cannot be stored, which is then left out of the page (its partial
   * columns too). @default {none: such a record throws}
   */
  onReject?: (record: Record<string, unknown>, reason: string) => void;
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
          flat = UNSTORABLE_CHARS.test(value) ? storableText(value) : value;
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
          if (nestedDeeper(value, MAX_DEPTH - depth)) {
            throw unstorable(options, id, column, `is nested more than ${MAX_DEPTH} levels deep`);
          }
          try {
            flat = arrayJson(value);
          } catch (error) {
            const why = errorMessage(error);
            throw unstorable(options, id, column, `cannot be stored as JSON: ${why}`);
          }
          break;
        }
        if (numberLiteral(value) !== null) { // a number no double holds, kept as given
          type = "text";
          flat = numberLiteral(value)!;
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

/** NUL or an unpaired surrogate as a JSON escape (`JSON.stringify` writes lone surrogates so). */
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/** Whether `value` (an array) holds arrays or objects nested more than `levels` deep. */
function nestedDeeper(value: unknown[], levels: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, level] = stack.pop()!;
    if (level > levels) return true;
    if (Array.isArray(item)) {
      for (const inner of item) {
        if (typeof inner === "object" && inner !== null) stack.push([inner, level + 1]);
      }
    } else if (numberLiteral(item) === null) {
      for (const inner of Object.values(item as object)) {
        if (typeof inner === "object" && inner !== null) stack.push([inner, level + 1]);
      }
    }
  }
  return false;
}

/**
 * An array as JSON text with every number as it came (exact big integers and literals no double
 * holds written as their digits), NUL and unpaired surrogates as U+FFFD (see
 * {@linkcode storableText}).
 */
function arrayJson(value: unknown[]): string {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // a BigInt: rare, so the replacer only then
    json = JSON.stringify(value, bigintAsJson);
  }
  return json.includes("\\u") ? json.replace(UNSTORABLE_ESCAPE, "$1\\ufffd") : json;
}

// `JSON.rawJSON` (V8 and JavaScriptCore), not yet in TypeScript's lib.
const rawJson = (JSON as unknown as { rawJSON(text: string): object }).rawJSON;

/** `JSON.stringify` replacer writing exact big integers as their digits. */
function bigintAsJson(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? rawJson(String(value)) : value;
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
  let types = new Map<string, ColumnType>();
  const byId = new Map<string, FlatRow>();
  const rejected = new Set<Record<string, unknown>>();
  for (const record of records) {
    let row: FlatRow;
    try {
      row = flattenRecord(record, types, options);
    } catch (error) {
      if (!options.onReject) throw error;
      options.onReject(record, errorMessage(error));
      rejected.add(record);
      continue;
    }
    byId.set(row.id, row);
  }
  if (rejected.size > 0) {
    // A rejected record may have typed columns before it failed: type the kept ones afresh.
    types = new Map();
    for (const record of records) {
      if (!rejected.has(record)) flattenRecord(record, types, options);
    }
  }
  types.delete("id");
  return { rows: [...byId.values()], types };
}
