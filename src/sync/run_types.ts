/**
 * The types of a sync run: what the engine reads from (a {@linkcode PageSource} of
 * {@linkcode ListPage}s), what it needs ({@linkcode EngineDeps}, {@linkcode SyncOptions}) and
 * what it reports ({@linkcode RunResult}).
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { OdataQuery } from "../act/odata.ts";
import type { ListInit, ListPage } from "../act/client.ts";
import type { RowChanges, Sink } from "../sink/sink.ts";
import type { State } from "../state/mod.ts";
import type { TableName, TableSpec } from "../act/tables.ts";
import type { FieldRules } from "./fields.ts";

export type { ListPage };

/** Where pages come from: the Act! client (or anything with the same `list`). */
export interface PageSource {
  /**
   * With `lazy`, the page may come with {@linkcode ListPage.lazy} (its `rows` then parse all);
   * `whole`: the rows are small (ids), parse the body as one text when it can be.
   */
  list(path: string, query?: OdataQuery, init?: ListInit): Promise<ListPage>;
}

/** Progress of one table, for progress lines and the status page. */
export interface ProgressEvent {
  table: TableName;
  rows: number;
  elapsedMs: number;
  /**
   * What `rows` counts. @default {"rows"} (written); `"ids"`: ids read by a reconcile scan;
   * `"parents"`: parents whose rows a reconcile has read
   */
  what?: "rows" | "ids" | "parents";
  /** The number `rows` will reach, when known (a bar is drawn). */
  total?: number;
  /**
   * A table read per parent (line items): the parents (`table`, e.g. opportunities) whose rows
   * are written so far, and `total`, when known: on a read of every parent (a first sync or a
   * full refresh), the parent table's rows in the destination.
   */
  parents?: { table: TableName; done: number; total?: number };
}

/** The outcome of one table in a run. */
export interface TableResult {
  table: TableName;
  status: "ok" | "failed" | "stopped";
  rowsRead: number;
  rowsWritten: number;
  /** Of `rowsWritten`: new ids, changed rows, rows re-read unchanged (see `WriteResult`). */
  changes: RowChanges;
  newColumns: string[];
  durationMs: number;
  requests: number;
  /** The table's records in `_act_rejected` after the run (records that cannot be stored). */
  rejected?: number;
  /** Records of the table rejected in this run (read again and still not storable included). */
  rejectedThisRun?: number;
  /** True when this was a first full read (no cursor) that found no row. */
  emptyFirstRead: boolean;
  error?: string;
}

/** The outcome of a run. */
export interface RunResult {
  ok: boolean;
  tables: TableResult[];
  /** Set when the fail-safe tripped. */
  failSafe?: string;
  state: State;
}

/** What the engine needs from outside; `src/jobs/sync.ts` builds the real ones. */
export interface EngineDeps {
  source: PageSource;
  sink: Sink;
  logger: Logger;
  /** Host clock in ms. */
  now: () => number;
  /** Persist the state (atomically); called after every committed page. */
  saveState: (state: State) => void | Promise<void>;
  onProgress?: (event: ProgressEvent) => void;
  /** When aborted, the page being written commits, the state is saved, and the run stops. */
  signal?: AbortSignal;
  /**
   * Called after every committed page, and between the chunks of a page written a chunk at a
   * time (the CLI returns memory here).
   */
  afterPage?: () => void;
}

/** Options of a run. */
export interface SyncOptions {
  /**
   * The `tables` selection: table names, `custom_*` for every custom table Act! lists, and
   * `-NAME` to leave one out (`selectTables()` in `src/act/tables.ts`).
   */
  tables: readonly string[];
  /** The custom tables Act! lists (set by the engine for its tables' reads). */
  customs?: readonly TableSpec[];
  /** `$top` of every request. */
  batchSize: number;
  /** Overlap re-read at the start of each incremental window, in seconds. */
  lookbackSeconds: number;
  /** Lower bound of a first read, ISO-8601. */
  defaultStartDate: string;
  /** Ignore cursors and resume points: re-read everything. @default {false} */
  fullRefresh?: boolean;
  /** Per-table path overrides. */
  endpoints?: Partial<Record<TableName, string>>;
  /** Per-table `exclude_fields` / `hash_fields` (src/sync/fields.ts). */
  fields?: Partial<Record<TableName, FieldRules>>;
  /**
   * Largest share of a table's rows that a whole read (users, a lookup or metadata table, notes
   * on a server without OData on them) may mark deleted because it no longer lists them.
   * @default {0.5}
   */
  maxDeleteFraction?: number;
  /**
   * Requests in flight at once where a table's reads are independent (each parent's line
   * items); the client caps them across the run. @default {1}
   */
  maxParallelRequests?: number;
}
