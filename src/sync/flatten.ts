/**
 * Turning Act! records into flat rows: nested objects joined with `_` (original case kept),
 * arrays as JSON text, date-times as UTC ISO-8601 ending in `Z`, every column typed.
 *
 * @module
 */
import { type ColumnType, type FlatPage, type FlatRow, widenType } from "../sink/sink.ts";

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Normalise an ISO-8601 date-time with any offset to UTC ending in `Z`
 * (`2023-08-17T15:50:18+02:00` → `2023-08-17T13:50:18Z`); whole seconds keep no fraction.
 * Returns null when `text` is not a date-time with a zone.
 */
export function normalizeDateTime(text: string): string | null {
  // Cheap shape check first: most strings are not dates ("YYYY-MM-DDTHH:MM…").
  if (
    text.length < 17 || text.length > 40 || text.charCodeAt(10) !== 84 ||
    text.charCodeAt(4) !== 45 || !DATE_TIME.test(text)
  ) {
    return null;
  }
  // Act!'s own shape, `2023-08-17T15:50:18+00:00`, is already UTC: no parsing needed.
  if (text.length === 25 && text.endsWith("+00:00") && text.charCodeAt(19) === 43) {
    return text.slice(0, 19) + "Z";
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  return formatUtc(ms);
}

/** Format epoch milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (with `.mmm` only when not whole). */
export function formatUtc(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? iso.slice(0, -5) + "Z" : iso;
}

/** Parse a date-time value from a record to epoch ms, or null. */
export function parseDateTime(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Flatten one record into `row`, recording each non-null column's type in `types`
 * (widened when the page already saw another type). Throws a TypeError for a record without id.
 */
export function flattenRecord(
  record: Record<string, unknown>,
  types: Map<string, ColumnType>,
): FlatRow {
  const id = record.id;
  if (typeof id !== "string" && typeof id !== "number") {
    throw new TypeError(
      `Record has no usable 'id': ${JSON.stringify(record).slice(0, 200)}`,
    );
  }
  const row = { id: String(id) } as FlatRow;
  flattenInto(record, "", row, types);
  row.id = String(id);
  return row;
}

/** Column names of nested keys, per prefix: the same strings every time (cheap as keys). */
const NAMES = new Map<string, Map<string, string>>();

function columnName(prefix: string, key: string): string {
  let names = NAMES.get(prefix);
  if (names === undefined) NAMES.set(prefix, names = new Map());
  let name = names.get(key);
  if (name === undefined) {
    if (names.size > 10_000) names.clear(); // bounded: tenants' field names are few
    names.set(key, name = `${prefix}_${key}`);
  }
  return name;
}

function flattenInto(
  object: Record<string, unknown>,
  prefix: string,
  row: FlatRow,
  types: Map<string, ColumnType>,
): void {
  for (const key in object) {
    const value = object[key];
    const column = prefix ? columnName(prefix, key) : key;
    if (value === null || value === undefined) {
      row[column] = null;
      continue;
    }
    let type: ColumnType;
    let flat: string | number | boolean;
    switch (typeof value) {
      case "string": {
        const date = normalizeDateTime(value);
        if (date !== null) {
          type = "datetime";
          flat = date;
        } else {
          type = "text";
          flat = value;
        }
        break;
      }
      case "number":
        type = Number.isInteger(value) ? "integer" : "real";
        flat = value;
        break;
      case "boolean":
        type = "boolean";
        flat = value;
        break;
      case "object":
        if (Array.isArray(value)) {
          type = "json";
          flat = JSON.stringify(value);
          break;
        }
        flattenInto(value as Record<string, unknown>, column, row, types);
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

/** Flatten a page of records. Later records with the same id replace earlier ones. */
export function flattenPage(records: readonly Record<string, unknown>[]): FlatPage {
  const types = new Map<string, ColumnType>();
  const byId = new Map<string, FlatRow>();
  for (const record of records) {
    const row = flattenRecord(record, types);
    byId.set(row.id, row);
  }
  if (types.get("id") === "integer" || types.get("id") === "real") types.set("id", "text");
  types.delete("id");
  return { rows: [...byId.values()], types };
}
