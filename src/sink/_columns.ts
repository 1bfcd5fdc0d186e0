/**
 * Private: the one mapping from source path (see `src/sync/flatten.ts`) to column name, shared by
 * both sinks so a page gets the same columns in SQLite and PostgreSQL.
 *
 * Rules, in order, for a path that has no column yet (paths of a page in sorted order):
 * 1. its *plain name* is its keys joined with `_` (NUL characters dropped), cut to
 *    {@linkcode MAX_COLUMN_BYTES} UTF-8 bytes on a character boundary;
 * 2. an existing column of exactly that name that no path owns yet (a table written by an older
 *    version) is adopted;
 * 3. else the plain name, unless it is empty or equal, ignoring case, to a column the table
 *    already has (another path's, `id`, the metadata columns, PostgreSQL's system columns);
 * 4. else the plain name cut short enough for `_2`, `_3`, … and the first such suffix that is free.
 * Once given, a path keeps its column for good: the mapping is stored in `_act_columns`
 * (`table_name`, `source_path`, `column_name`) and read first.
 *
 * @module
 */
import { META_COLUMNS, plainName } from "./sink.ts";

/** Longest column name, in UTF-8 bytes, in both sinks (PostgreSQL's identifier limit). */
export const MAX_COLUMN_BYTES = 63;

/** The table that records the mapping. */
export const COLUMNS_TABLE = "_act_columns";

/** Column names the sinks manage themselves or PostgreSQL reserves, lower case. */
const TAKEN_ALWAYS = [
  "id",
  ...META_COLUMNS,
  "tableoid",
  "xmin",
  "cmin",
  "xmax",
  "cmax",
  "ctid",
];

/** One row of `_act_columns`. */
export interface ColumnEntry {
  path: string;
  column: string;
}

/** The length of `text` in UTF-8 bytes. */
function byteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** `name` cut to at most `max` UTF-8 bytes on a character boundary. */
export function cutToBytes(name: string, max: number): string {
  if (name.length * 3 <= max || byteLength(name) <= max) return name;
  let out = "";
  let bytes = 0;
  for (const char of name) {
    const size = byteLength(char);
    if (bytes + size > max) break;
    out += char;
    bytes += size;
  }
  return out;
}

/** What {@linkcode ColumnMap.assign} decided for new paths. */
export interface Assigned {
  /** New mapping rows, to be stored in `_act_columns`. */
  entries: ColumnEntry[];
  /** One WARNING text per path that did not get its plain name. */
  warnings: string[];
}

/** The mapping of one table: stored entries plus the table's existing columns. */
export class ColumnMap {
  #table: string;
  #byPath = new Map<string, string>();
  /** Lower-case column name → the path owning it (null: act-sync's own, undefined: unknown). */
  #owners = new Map<string, string | null | undefined>();
  /** Existing columns no path owns yet, by exact name. */
  #unowned = new Set<string>();

  /**
   * `entries` from `_act_columns`; `columns` the data columns the table has now; `reserved`
   * more columns the sink keeps itself (a link table's id columns).
   */
  constructor(
    table: string,
    entries: readonly ColumnEntry[],
    columns: Iterable<string>,
    reserved: readonly string[] = [],
  ) {
    this.#table = table;
    for (const name of TAKEN_ALWAYS) this.#owners.set(name, null);
    for (const name of reserved) this.#owners.set(name.toLowerCase(), null);
    for (const { path, column } of entries) {
      this.#byPath.set(path, column);
      this.#owners.set(column.toLowerCase(), path);
    }
    for (const column of columns) {
      const lower = column.toLowerCase();
      if (!this.#owners.has(lower)) {
        this.#owners.set(lower, undefined); // taken, owner unknown
        this.#unowned.add(column);
      }
    }
  }

  /** The column of a path, or undefined when it has none yet. */
  get(path: string): string | undefined {
    return this.#byPath.get(path);
  }

  /** Every source path with its column. */
  paths(): Map<string, string> {
    return new Map(this.#byPath);
  }

  /**
   * The column that holds a path's values: its mapped column, else an existing column of its
   * plain name that no path owns (a table written before `_act_columns`); undefined if none.
   */
  columnOf(path: string): string | undefined {
    const plain = plainName(path);
    return this.#byPath.get(path) ?? (this.#unowned.has(plain) ? plain : undefined);
  }

  /** Whether every path has a column. */
  covers(paths: Iterable<string>): boolean {
    for (const path of paths) if (!this.#byPath.has(path)) return false;
    return true;
  }

  /** Give every path without a column one, by the rules in the module doc. */
  assign(paths: Iterable<string>): Assigned {
    const fresh = [...paths].filter((path) => !this.#byPath.has(path)).sort();
    const out: Assigned = { entries: [], warnings: [] };
    for (const path of fresh) {
      const plain = plainName(path);
      const cut = cutToBytes(plain, MAX_COLUMN_BYTES);
      let column: string | undefined;
      for (const candidate of cut === plain ? [plain] : [plain, cut]) {
        if (this.#unowned.has(candidate)) {
          this.#unowned.delete(candidate);
          column = candidate;
          break;
        }
      }
      if (column === undefined && cut !== "" && !this.#owners.has(cut.toLowerCase())) {
        column = cut;
      }
      if (column === undefined) {
        for (let n = 2;; n++) {
          const suffix = `_${n}`;
          const name = cutToBytes(plain, MAX_COLUMN_BYTES - suffix.length) + suffix;
          if (!this.#owners.has(name.toLowerCase())) {
            column = name;
            break;
          }
        }
        out.warnings.push(this.#warning(path, plain, cut, column));
      }
      this.#byPath.set(path, column);
      this.#owners.set(column.toLowerCase(), path);
      out.entries.push({ path, column });
    }
    return out;
  }

  #warning(path: string, plain: string, cut: string, column: string): string {
    const where = `Table ${this.#table}: source field "${path}"`;
    const stored = `: stored in column "${column}" (see ${COLUMNS_TABLE})`;
    if (cut === "") return `${where} has no usable column name${stored}`;
    const lower = cut.toLowerCase();
    const owner = this.#owners.get(lower);
    const why = cut !== plain ? ` (names are cut to ${MAX_COLUMN_BYTES} bytes)` : "";
    if (owner === null) {
      const what = lower === "id" ? "the record id" : "a column act-sync keeps itself";
      return `${where} would share column "${cut}" with ${what}${why}${stored}`;
    }
    if (owner === undefined) {
      return `${where} would share column "${cut}" with an existing column${why}${stored}`;
    }
    return `${where} and source field "${owner}" would share column "${cut}"${why}${stored}`;
  }
}

/**
 * The column that holds source field `field` in `table` ({@linkcode ColumnMap.columnOf});
 * throws a `RangeError` when the table has none (a lookup by a field never stored).
 */
export function fieldColumn(table: string, map: ColumnMap, field: string): string {
  const column = map.columnOf(field);
  if (column === undefined) {
    throw new RangeError(
      `Cannot find rows of table "${table}" by source field "${field}": no column holds it ` +
        `(see ${COLUMNS_TABLE})`,
    );
  }
  return column;
}
