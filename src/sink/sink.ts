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
  /** What the table's schema needs besides its data columns: indexes, a view, link tables. */
  shape?: TableShape;
  /** The page's link rows, one entry per link table of `shape` (see {@linkcode LinkRows}). */
  links?: LinkRows[];
}

/** A link table fed from one array field of its parent table's records. */
export interface LinkShape {
  /** Source path of the array in the parent record, e.g. `contacts`. */
  field: string;
  /** The link table, e.g. `opportunity_contacts`. */
  table: string;
  /** Column holding the parent's id, e.g. `opportunity_id`. */
  parentColumn: string;
  /** Column holding the related record's id, e.g. `contact_id`. */
  relatedColumn: string;
}

/** A table's schema beyond its data columns (from its spec in `src/sync/relations.ts`). */
export interface TableShape {
  /** Source paths holding another table's id: stored as text (like every `id`) and indexed. */
  refs: readonly string[];
  /** Source path of the cursor field (indexed), or null. */
  cursor: string | null;
  /** The link tables fed from the table's arrays. */
  links: readonly LinkShape[];
}

/**
 * The link rows of one page for one link table. The links of every parent in the page are
 * replaced by these (a parent with no pair here loses its links).
 */
export interface LinkRows {
  /** Which link table. */
  link: LinkShape;
  /**
   * One row per pair: the parent's id, the related record flattened (its `id` is the related
   * id) and its index in the parent's array (0 = first, the one Act! treats as primary).
   */
  rows: { parent: string; related: FlatRow; position: number }[];
  /** Types of the related records' other fields. */
  types: Map<string, ColumnType>;
}

/** What one {@linkcode Sink.write} did. */
export interface WriteResult {
  /** Rows inserted or updated (every row of the page, re-read ones too). */
  written: number;
  /**
   * How the page's rows compare with what the table held before this write, so that a run can
   * report honest counts: `inserted` ids the table did not have, `updated` rows whose values
   * changed (or that were marked deleted), `unchanged` rows written again with the same values
   * (a boundary row re-read, or the same id twice in one page). They add up to `written`.
   */
  changes: RowChanges;
  /** Columns added to the table by this write. */
  newColumns: string[];
  /** Columns whose type was widened by this write. */
  widenedColumns: string[];
}

/** How many rows of a write were new, changed, or the same as before (see {@linkcode WriteResult}). */
export interface RowChanges {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** No rows. */
export function noChanges(): RowChanges {
  return { inserted: 0, updated: 0, unchanged: 0 };
}

/**
 * A record that could not be stored in its table, kept whole in `_act_rejected` (see
 * `src/sink/_rejected.ts`) until it can be.
 */
export interface RejectedRecord {
  /** The record's id, null when it has none. */
  id: string | null;
  /** For a record read per parent (a line item): the parent's id, else null. */
  parent: string | null;
  /** Identifies the record in its table: its id, else `sha256:<hex>` of its text. */
  key: string;
  /** Why it could not be stored. */
  reason: string;
  /** Its JSON text as it came. */
  raw: string;
}

/** A row of `_act_rejected`. */
export interface RejectedEntry extends RejectedRecord {
  table: string;
  /** When it was first rejected (UTC ISO-8601). */
  firstSeen: string;
  /** When it was last read and rejected again. */
  lastSeen: string;
}

/** A destination database. */
export interface Sink {
  /** Short description for logs, without any password. */
  readonly description: string;
  /**
   * Upsert one page in one transaction: creates the table and missing columns, widens columns
   * whose type no longer fits, replaces each row by `id` (columns absent from a row become NULL),
   * sets `_act_synced = syncedAt` and `_act_deleted = 0`, `_act_deleted_at = NULL`. The page may
   * come in chunks (an iterable of pages, each flattened only when its turn comes), written in
   * order in the same transaction; a chunk producer's {@linkcode PageSourceError} rolls the
   * transaction back and its cause is thrown as it is.
   */
  write(table: string, page: FlatPage | Iterable<FlatPage>, syncedAt: string): Promise<WriteResult>;
  /** Number of rows not marked deleted (0 when the table does not exist). */
  count(table: string): Promise<number>;
  /**
   * Ids of all rows not marked deleted (empty when the table does not exist); with `where`, only
   * those whose source field (a source path, e.g. `opportunityID`, found in its column through
   * `_act_columns`) equals the value. A field the existing table has no column for throws a
   * `RangeError`.
   */
  ids(table: string, where?: { field: string; value: string }): Promise<string[]>;
  /**
   * Up to `limit` ids of rows not marked deleted, the first ones after `after` in the table's id
   * order (from the first when null): every id a part at a time, each part asked after the last
   * id of the one before (empty when the table does not exist). Optional: without it, `ids()`.
   */
  idsAfter?(table: string, after: string | null, limit: number): Promise<string[]>;
  /** Set `_act_deleted = 1`, `_act_deleted_at = at` for these ids; returns rows changed. */
  markDeleted(table: string, ids: readonly string[], at: string): Promise<number>;
  /**
   * Bring an existing table up to `shape` before a run (nothing when the table does not exist):
   * reference columns of another type widened to text, indexes and `<table>_live` views created.
   * Writes with a page's `shape` do the same.
   */
  prepare(table: string, shape: TableShape, at: string): Promise<void>;
  /**
   * Rewrite stored values of `table` in place (`act-sync scrub`): the columns of the dotted source
   * paths in `clear` (a path also covers the fields nested under it) are set to NULL; those in
   * `hash` are set to `hash(text)` when the column holds text (values already 64 hex digits are
   * left as they are), else set to NULL too. One transaction; the rows changed per column.
   */
  scrub(table: string, paths: ScrubPaths, hash: (text: string) => string): Promise<ScrubResult>;
  /**
   * Keep records that could not be stored in `_act_rejected` (created when missing): a record
   * already there gets the new reason and text and `last_seen = at`.
   */
  reject(table: string, records: readonly RejectedRecord[], at: string): Promise<void>;
  /** Remove records of `table` from `_act_rejected` by key; returns how many were there. */
  unreject(table: string, keys: readonly string[]): Promise<number>;
  /** Every row of `_act_rejected` (empty when it does not exist), oldest first. */
  rejected(): Promise<RejectedEntry[]>;
  /** Close connections; the sink is unusable afterwards. */
  close(): Promise<void>;
  // The field labels (`src/sync/metadata.ts`); optional, so that a wrapper may leave them out.
  /** Source path → column of a table, from `_act_columns` (empty when the table does not exist). */
  columnsOf?(table: string): Promise<Map<string, string>>;
  /** These columns of the rows not marked deleted (empty when the table does not exist). */
  liveRows?(table: string, columns: readonly string[]): Promise<Record<string, unknown>[]>;
  /**
   * Create or replace the view `<table>_labeled` whose columns carry `labels` (column → label),
   * when its text changed (see `_labels.ts`); on PostgreSQL also `COMMENT ON COLUMN` of the
   * table with each label. False when nothing changed or the table does not exist.
   */
  labelView?(table: string, labels: ReadonlyMap<string, string>): Promise<boolean>;
}

/** The dotted source paths `Sink.scrub` clears or hashes. */
export interface ScrubPaths {
  clear: readonly string[];
  hash: readonly string[];
}

/** Per column: what `Sink.scrub` did and to how many rows. */
export type ScrubResult = Record<string, { action: "cleared" | "hashed"; rows: number }>;

/** A value `Sink.scrub` has hashed already (HMAC-SHA-256 as hex). */
export const HASHED = /^[0-9a-f]{64}$/;

/**
 * The columns `Sink.scrub` changes: for each mapped source path (`a/b`, see `flatten.ts`) under
 * a dotted path of `paths`, its column and whether it is cleared or hashed.
 */
export function scrubColumns(
  entries: readonly { path: string; column: string }[],
  paths: ScrubPaths,
): { column: string; action: "clear" | "hash" }[] {
  const source = (dotted: string) => dotted.split(".").map(escapeSegment).join("/");
  const under = (path: string, list: readonly string[]) =>
    list.some((dotted) => path === source(dotted) || path.startsWith(source(dotted) + "/"));
  const out: { column: string; action: "clear" | "hash" }[] = [];
  for (const { path, column } of entries) {
    if (under(path, paths.clear)) out.push({ column, action: "clear" });
    else if (under(path, paths.hash)) out.push({ column, action: "hash" });
  }
  return out;
}

/**
 * Thrown by the producer of a chunked write ({@linkcode Sink.write}) for a problem of the data
 * it reads, not of the database: the sink rolls back and throws `cause` unchanged.
 */
export class PageSourceError extends Error {
  constructor(cause: unknown) {
    super("reading the page failed", { cause });
    this.name = "PageSourceError";
  }
}

/** A page, or the chunks of one, as chunks. */
export function pagesOf(page: FlatPage | Iterable<FlatPage>): Iterable<FlatPage> {
  return Symbol.iterator in page ? page : [page];
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

/**
 * Whether `text` may hold NUL or an unpaired UTF-16 surrogate: PostgreSQL text holds neither, and
 * a driver encodes an unpaired surrogate its own way. Both sinks store U+FFFD in their place
 * ({@linkcode storableText}), in data, link and `_act_rejected` values alike.
 */
export const UNSTORABLE_CHARS = /[\0\ud800-\udfff]/;
const UNSTORABLE_CHAR =
  /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with each NUL and unpaired surrogate replaced by U+FFFD. */
export function storableText(text: string): string {
  return UNSTORABLE_CHARS.test(text) ? text.replace(UNSTORABLE_CHAR, "\ufffd") : text;
}
