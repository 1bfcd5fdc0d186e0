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
import { UnparsedRow } from "../act/response_body.ts";
import type { ListPage } from "./run_types.ts";

type Row = Record<string, unknown>;

/**
 * Rows of a page flattened and written at a time, in the page's one transaction: a 10,000-row
 * page is never held parsed or flattened whole, which bounds the memory a run needs.
 */
export const WRITE_CHUNK = 1000;

/** What sorts out the records that cannot be stored (`Rejects` of `rejects.ts`). */
export interface RowScreen {
  /** Whether the row can be read on the cursor `key` (else it is kept as rejected). */
  screen(row: Row, key: string): boolean;
  /** The rows flattened, each that cannot be stored left out (and kept as rejected). */
  flatten(rows: readonly Row[]): FlatPage;
}

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

/**
 * A row's cursor value, checked not to be below the window's position; null when the row has no
 * valid one (a record that cannot be stored, see `rejects.ts`).
 */
export function cursorValue(row: Row, check: CursorCheck): number | null {
  const { key, from, path } = check;
  const value = row instanceof UnparsedRow ? null : parseDateTime(readField(row, key));
  if (value === null) return null;
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

/**
 * The last (largest) cursor value of a page, after checking every row's; null when no row has
 * a valid one.
 */
export function checkedLastValue(rows: readonly Row[], check: CursorCheck): number | null {
  let previous = -Infinity;
  for (const row of rows) {
    const value = cursorValue(row, check);
    if (value !== null) previous = sorted(value, previous, check);
  }
  return previous === -Infinity ? null : previous;
}

/**
 * The cursor value of the last row of a page read lazily that has a valid one (usually the last
 * row), or null; a row that is not JSON throws `UnusableRowError`.
 */
export function lastValueOf(
  rows: NonNullable<ListPage["lazy"]>,
  check: CursorCheck,
): number | null {
  for (let i = rows.length - 1; i >= 0; i--) {
    const value = cursorValue(rows.at(i), check);
    if (value !== null) return value;
  }
  return null;
}

/**
 * A page read {@linkcode WRITE_CHUNK} rows at a time, each row checked, each chunk flattened
 * only when the sink asks for it; `between` runs before every chunk but the first (the previous
 * chunk is written by then, its rows garbage). A record that cannot be stored (no valid cursor
 * value, cannot be flattened) is left out and kept by `rejects`. A problem of the page (a check,
 * a row that is not JSON) is thrown as a {@linkcode PageSourceError}, so the sink rolls the page
 * back and throws it unchanged.
 */
export function* checkedChunks(
  rows: NonNullable<ListPage["lazy"]>,
  rejects: RowScreen,
  check: CursorCheck,
  between?: () => void,
): Generator<FlatPage> {
  let previous = -Infinity;
  for (let start = 0; start < rows.length; start += WRITE_CHUNK) {
    let flat: FlatPage;
    try {
      if (start > 0) between?.();
      const chunk = rows.slice(start, Math.min(rows.length, start + WRITE_CHUNK));
      const kept = chunk.filter((row) => rejects.screen(row, check.key));
      for (const row of kept) previous = sorted(cursorValue(row, check)!, previous, check);
      flat = rejects.flatten(kept);
    } catch (error) {
      throw new PageSourceError(error);
    }
    yield flat;
  }
}
