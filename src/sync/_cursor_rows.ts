/**
 * Private to `src/sync`: the checks every row of a window page passes (its cursor value present,
 * not below the window's position, sorted ascending), for a page held whole and for one read a
 * chunk at a time from its bytes ({@linkcode checkedChunks}).
 *
 * @module
 */
import { PageSourceError } from "../sink/sink.ts";
import type { FlatPage } from "../sink/sink.ts";
import { formatUtc } from "../core/time.ts";
import { parseDateTime } from "./flatten.ts";
import { flattenForSink } from "./relations.ts";
import type { FieldRules } from "./fields.ts";
import { asText } from "./scan.ts";
import type { TableSpec } from "../act/tables.ts";
import type { ListPage } from "./run_types.ts";

type Row = Record<string, unknown>;

/**
 * Rows of a page flattened and written at a time, in the page's one transaction: a 10,000-row
 * page is never held parsed or flattened whole, which bounds the memory a run needs.
 */
export const WRITE_CHUNK = 1000;

/** What the checks need: the cursor's JSON field, the window's position, the endpoint. */
export interface CursorCheck {
  key: string;
  from: number;
  path: string;
}

/** Read a field case-insensitively (the exact key first). */
export function readField(row: Row, key: string): unknown {
  if (key in row) return row[key];
  const lower = key.toLowerCase();
  for (const k in row) if (k.toLowerCase() === lower) return row[k];
  return undefined;
}

/** A row's cursor value, checked: present and valid, and not below the window's position. */
export function cursorValue(row: Row, check: CursorCheck): number {
  const { key, from, path } = check;
  const value = parseDateTime(readField(row, key));
  if (value === null) {
    throw new TypeError(`Record without a valid '${key}' in ${path}: ${asText(row)}`);
  }
  if (value < from - 999) {
    throw new RangeError(
      `The server ignored $filter on ${path}: got '${key}' ${formatUtc(value)} below ${
        formatUtc(from)
      }`,
    );
  }
  return value;
}

/** Check `value` against the row before it (`previous`); returns `value`. */
function sorted(value: number, previous: number, check: CursorCheck): number {
  if (value < previous) {
    throw new RangeError(
      `The server ignored $orderby on ${check.path}: rows are not sorted by '${check.key}'`,
    );
  }
  return value;
}

/** The last (largest) cursor value of a page, after checking every row's. */
export function checkedLastValue(rows: readonly Row[], check: CursorCheck): number {
  let previous = -Infinity;
  for (const row of rows) previous = sorted(cursorValue(row, check), previous, check);
  return previous;
}

/**
 * A page read {@linkcode WRITE_CHUNK} rows at a time, each row checked, each chunk flattened
 * only when the sink asks for it; `between` runs before every chunk but the first (the previous
 * chunk is written by then, its rows garbage). A problem of the rows (a check, a record that
 * cannot be stored, a row that is not JSON) is thrown as a {@linkcode PageSourceError}, so the
 * sink rolls the page back and throws it unchanged.
 */
export function* checkedChunks(
  rows: NonNullable<ListPage["lazy"]>,
  spec: TableSpec,
  check: CursorCheck,
  between?: () => void,
  fields?: FieldRules,
): Generator<FlatPage> {
  let previous = -Infinity;
  for (let start = 0; start < rows.length; start += WRITE_CHUNK) {
    let flat: FlatPage;
    try {
      if (start > 0) between?.();
      const chunk = rows.slice(start, Math.min(rows.length, start + WRITE_CHUNK));
      for (const row of chunk) previous = sorted(cursorValue(row, check), previous, check);
      flat = flattenForSink(spec, chunk, fields);
    } catch (error) {
      throw new PageSourceError(error);
    }
    yield flat;
  }
}
