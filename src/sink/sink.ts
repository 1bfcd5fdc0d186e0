/**
 * The destination interface. The engine writes through it and never knows which database is
 * behind it; `sqlite.ts` and `postgres.ts` implement it.
 *
 * @module
 */
/**
 * The type of a flattened column. Widening order: integer → real → text; boolean, datetime and
 * json widen to text when mixed with anything else.
 */
export type ColumnType = "integer" | "real" | "boolean" | "datetime" | "json" | "text";

/**
 * A flattened value: JSON text for `json`, a UTC ISO-8601 string ending in `Z` for `datetime`,
 * a bigint for an integer beyond ±2^53 (kept exactly).
 */
export type FlatValue = string | number | bigint | boolean | null;

/** One flattened record keyed by source path (see `src/sync/flatten.ts`); always has a string `id`. */
export interface FlatRow {
  id: string;
  [column: string]: FlatValue;
}

/** A page of flattened rows ready to write. */
export interface FlatPage {
  /** The rows; later rows with the same id win. */
  rows: FlatRow[];
  /** The type of every column that has a non-null value in this page (widened across the page). */
  types: Map<string, ColumnType>;
}

/** What one {@linkcode Sink.write} did. */
export interface WriteResult {
  /** Rows inserted or updated. */
  written: number;
  /** Columns added to the table by this write. */
  newColumns: string[];
  /** Columns whose type was widened by this write. */
  widenedColumns: string[];
}

/** A destination database. */
export interface Sink {
  /** Short description for logs, without any password. */
  readonly description: string;
  /**
   * Upsert one page in one transaction: creates the table and missing columns, widens columns
   * whose type no longer fits, replaces each row by `id` (columns absent from a row become NULL),
   * sets `_act_synced = syncedAt` and `_act_deleted = 0`, `_act_deleted_at = NULL`.
   */
  write(table: string, page: FlatPage, syncedAt: string): Promise<WriteResult>;
  /** Number of rows not marked deleted (0 when the table does not exist). */
  count(table: string): Promise<number>;
  /**
   * Ids of all rows not marked deleted (empty when the table does not exist); with `where`, only
   * those whose column (as named in the table, e.g. `opportunityID`) equals the value.
   */
  ids(table: string, where?: { column: string; value: string }): Promise<string[]>;
  /** Set `_act_deleted = 1`, `_act_deleted_at = at` for these ids; returns rows changed. */
  markDeleted(table: string, ids: readonly string[], at: string): Promise<number>;
  /** Close connections; the sink is unusable afterwards. */
  close(): Promise<void>;
}

/** Metadata columns every table has, besides `id`. */
export const META_COLUMNS = ["_act_synced", "_act_deleted", "_act_deleted_at"] as const;

/** The wider of two column types. */
export function widenType(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  const numeric = (t: ColumnType) => t === "integer" || t === "real";
  if (numeric(a) && numeric(b)) return "real";
  return "text";
}

/** One key as a path segment: `~` → `~0`, `/` → `~1`, NUL → `~2`. */
export function escapeSegment(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1").replaceAll("\0", "~2");
}

/** The keys of a source path ({@linkcode escapeSegment} undone). */
export function pathSegments(path: string): string[] {
  return path.split("/").map((part) =>
    part.includes("~")
      ? part.replaceAll("~2", "\0").replaceAll("~1", "/").replaceAll("~0", "~")
      : part
  );
}

/**
 * The plain column name of a source path: its keys joined with `_`, NUL characters dropped
 * (`businessAddress/city` → `businessAddress_city`). The sink may disambiguate it.
 */
export function plainName(path: string): string {
  const name = path.includes("/") || path.includes("~") ? pathSegments(path).join("_") : path;
  return name.includes("\0") ? name.replaceAll("\0", "") : name;
}
