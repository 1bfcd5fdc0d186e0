/**
 * Two reads the engine (`src/sync/engine.ts`) adds for tables that are not plain OData lists:
 *
 * - **Rows per parent** ({@linkcode ChildReader}): opportunity line items have no collection of
 *   their own, only `/api/opportunities/{id}/products`. The engine scans the parent table on
 *   this table's own cursor, exactly like an incremental table (the same lossless window, its
 *   own `position` and cursor in the state) but in pages of at most {@linkcode PARENT_PAGE}
 *   parents, and for each page of new or changed parents reads every parent's rows
 *   (`max_parallel_requests` parents at once), writes them with the parent's id in `parentKey`,
 *   and marks deleted the stored rows of those parents that are no longer sent (a line item
 *   removed from its opportunity). The page's checkpoint is saved only after that, so the cursor never passes a
 *   parent whose rows were not stored: a failed fetch fails the table and the next run reads
 *   that parent again. This relies on a change to a parent's rows bumping the parent's
 *   `edited`; where it does not, `act-sync reconcile opportunity_products` re-reads the rows of
 *   every opportunity (see the README).
 * - **A whole list** (`users`, whose endpoint documents no OData): read by
 *   {@linkcode readWholeList}, the same read as each parent's rows. A whole read ends with every
 *   listed row written; {@linkcode markUnlisted} then marks deleted the stored rows it did not
 *   list, unless they are more than `max_delete_fraction` of the stored rows (the guard
 *   `act-sync reconcile` applies: a wrong database or lost permissions look like mass deletion).
 *
 * Every list is read whole by the rules of `src/sync/scan.ts` (point 4) or the table fails:
 * nothing is marked deleted on the strength of a read that may be incomplete.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { UnparsedRow } from "../act/response_body.ts";
import type { OdataQuery } from "../act/odata.ts";
import type { Sink } from "../sink/sink.ts";
import { Completeness, idOf, readWholeList, type Row } from "./scan.ts";
import { type TableName, TABLES, type TableSpec } from "../act/tables.ts";
import type { ListPage } from "./run_types.ts";

/** Largest share of a table's stored rows a run may mark deleted unless forced. */
export const DEFAULT_MAX_DELETE_FRACTION = 0.5;

/**
 * Whether marking `gone` of `stored` rows deleted exceeds the mass-delete guard
 * (`max_delete_fraction`, see {@linkcode DEFAULT_MAX_DELETE_FRACTION}).
 */
export function exceedsDeleteGuard(gone: number, stored: number, fraction: number): boolean {
  return gone > 0 && gone > fraction * stored;
}

/**
 * The reader of a table read per parent (null for other tables); `fetch` is one counted request
 * of a parent's rows.
 */
export function childReader(
  spec: TableSpec,
  options: { endpoints?: Partial<Record<TableName, string>>; top: number; parallel?: number },
  fetch: (path: string, query: OdataQuery) => Promise<Row[]>,
): ChildReader | null {
  const parent = spec.perParent;
  if (!parent) return null;
  return new ChildReader({
    template: options.endpoints?.[spec.name] ?? spec.path,
    parentPath: options.endpoints?.[parent.table] ?? TABLES[parent.table].path,
    parentKey: parent.parentKey,
    top: options.top,
    parallel: options.parallel ?? 1,
    fetch,
  });
}

/**
 * The most parents a page of the parent scan asks for (`$top`), whatever `batch_size` is: each
 * parent costs a request, so a page of 10000 would read for tens of minutes before writing,
 * reporting progress or saving the position. Pages this small write, report and checkpoint
 * every ~100 parents (under a minute at the default `rate_limit_pause`), and a stop or kill
 * loses at most one such page.
 */
export const PARENT_PAGE = 100;

/** The rows of one page of parents, read by {@linkcode ChildReader.read}. */
export interface Children {
  /** Every parent's rows, each with the parent's id in the parent key. */
  rows: Row[];
  /** Parent id → ids of its rows as sent now. */
  byParent: Map<string, Set<string>>;
}

/** What a {@linkcode ChildReader} reads and how. */
export interface ChildReaderOptions {
  /** The per-parent path with `{id}` (e.g. `/api/opportunities/{id}/products`). */
  template: string;
  /** The parent table's list path. */
  parentPath: string;
  /** The source field that holds the parent's id on every row (e.g. `opportunityID`). */
  parentKey: string;
  /** `$top` of every request. */
  top: number;
  /**
   * Parents whose rows are read at once (`max_parallel_requests`; the client caps the requests
   * in flight across the run and paces them).
   */
  parallel: number;
  /** One counted request. */
  fetch: (path: string, query: OdataQuery) => Promise<Row[]>;
}

/** Reads the rows of parents (see the module comment). */
export class ChildReader {
  /** The parent table's list path, which the engine scans on this table's cursor. */
  readonly parentPath: string;
  #options: ChildReaderOptions;
  /** Every parent's list is one endpoint: one cap, one way of paging. */
  #completeness: Completeness;
  #endpoint = { ignoresPaging: false };

  constructor(options: ChildReaderOptions) {
    this.parentPath = options.parentPath;
    this.#options = options;
    this.#completeness = new Completeness(options.top);
  }

  /**
   * Read the rows of every parent, each list whole, `parallel` parents at once; any failed read
   * fails the whole read (no parent starts after it; those being read finish first).
   * `onRead` gets the number of parents read so far.
   */
  async read(parents: readonly Row[], onRead?: (read: number) => void): Promise<Children> {
    const ids = [...new Set(parents.map(idOf).filter((id) => id !== ""))];
    const results = new Map<string, Row[]>();
    await forEachParallel(ids, this.#options.parallel, async (id) => {
      results.set(id, await this.#readOne(id));
      onRead?.(results.size);
    });
    const rows: Row[] = [];
    const byParent = new Map<string, Set<string>>();
    for (const id of ids) {
      const own = results.get(id)!;
      rows.push(...own);
      byParent.set(id, new Set(own.map(idOf)));
    }
    return { rows, byParent };
  }

  async #readOne(id: string): Promise<Row[]> {
    const { template, parentKey, top, fetch } = this.#options;
    const path = template.replace("{id}", encodeURIComponent(id));
    const rows: Row[] = [];
    await readWholeList({
      list: (query) => fetch(path, query),
      path,
      top,
      completeness: this.#completeness,
      endpoint: this.#endpoint,
      who: "Paging",
      onRows: (fresh) => {
        // The parsed rows are this read's own: the parent key is set in place, so the text
        // they came in stays theirs (for a row that cannot be stored, see `rejects.ts`).
        for (const row of fresh) {
          if (row instanceof UnparsedRow) row.parent = id;
          else row[parentKey] = id;
          rows.push(row);
        }
      },
    });
    return rows;
  }

  /**
   * Mark deleted the stored rows of these parents that were not sent now (found by the parent
   * key's column, through the sink's column mapping); returns how many.
   */
  async markRemoved(sink: Sink, table: string, children: Children, at: string): Promise<number> {
    let removed = 0;
    for (const [parent, sent] of children.byParent) {
      const stored = await sink.ids(table, { field: this.#options.parentKey, value: parent });
      const gone = stored.filter((id) => !sent.has(id));
      if (gone.length > 0) removed += await sink.markDeleted(table, gone, at);
    }
    return removed;
  }
}

/**
 * Run `work` for every item, at most `parallel` at once. After the first failure no item
 * starts; the ones running end, then that failure is thrown (nothing is left in flight).
 */
export async function forEachParallel<T>(
  items: readonly T[],
  parallel: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(parallel), items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/** What {@linkcode readWholeTable} needs. */
export interface WholeTableRead extends DatedListRead {
  /** Write rows read for the first time in this read. */
  write: (rows: Row[]) => Promise<void>;
  sink: Sink;
  logger: Logger;
  table: string;
  /** `_act_deleted_at` of the rows marked deleted. */
  at: () => string;
  /** See {@linkcode exceedsDeleteGuard}. */
  maxDeleteFraction: number;
}

/** What {@linkcode readDatedList} needs: one counted request, the path, `$top`, the tracker. */
export interface DatedListRead {
  /** One counted request; its page's `Date` header (ms or null) is the read's server time. */
  list: (query: OdataQuery) => Promise<Pick<ListPage, "rows" | "serverDate">>;
  /** The list's path. */
  path: string;
  /** `$top` of every request. */
  top: number;
  /** The endpoint's tracker. */
  completeness: Completeness;
}

/**
 * A list that may ignore OData read whole ({@linkcode readWholeList}), each batch of new rows
 * given to `onRows`; returns the first response's `Date` header (ms or null).
 */
export async function readDatedList(
  read: DatedListRead,
  onRows: (rows: Row[]) => Promise<void>,
): Promise<number | null> {
  let date: number | null | undefined;
  await readWholeList({
    list: async (query) => {
      const page = await read.list(query);
      if (date === undefined) date = page.serverDate;
      return page.rows;
    },
    path: read.path,
    top: read.top,
    completeness: read.completeness,
    endpoint: { ignoresPaging: false },
    who: "Paging",
    onRows,
  });
  return date ?? null;
}

/**
 * Read a table that may ignore OData (users) whole ({@linkcode readDatedList}), write it, then
 * mark deleted what it no longer lists ({@linkcode markUnlisted}). Returns the first response's
 * `Date` header (ms or null).
 */
export async function readWholeTable(read: WholeTableRead): Promise<number | null> {
  const listed = new Set<string>();
  const date = await readDatedList(read, async (rows) => {
    for (const row of rows) listed.add(idOf(row));
    await read.write(rows);
  });
  await markUnlisted({ ...read, listed, at: read.at() });
  return date;
}

/** What {@linkcode markUnlisted} needs. */
export interface UnlistedOptions {
  sink: Sink;
  logger: Logger;
  table: string;
  /** Every id the whole read listed. */
  listed: ReadonlySet<string>;
  /** `_act_deleted_at` of the rows marked. */
  at: string;
  /** See {@linkcode exceedsDeleteGuard}. */
  maxDeleteFraction: number;
}

/**
 * After a whole read of a table: mark deleted the stored rows it did not list, within the
 * mass-delete guard (above it nothing is marked, with a WARNING); returns how many.
 */
export async function markUnlisted(options: UnlistedOptions): Promise<number> {
  const { sink, table, listed, maxDeleteFraction } = options;
  const stored = await sink.ids(table);
  const gone = stored.filter((id) => !listed.has(id));
  if (gone.length === 0) return 0;
  if (exceedsDeleteGuard(gone.length, stored.length, maxDeleteFraction)) {
    options.logger.warning(
      `Table ${table}: ${gone.length} of ${stored.length} rows are no longer listed; none ` +
        `marked deleted (more than 'max_delete_fraction' ${maxDeleteFraction}): check the ` +
        `database name and the Act! user's permissions, then run 'act-sync reconcile --force ` +
        `${table}' if the deletions are real`,
    );
    return 0;
  }
  const marked = await sink.markDeleted(table, gone, options.at);
  options.logger.info(`Table ${table}: rows no longer listed marked deleted`, { rows: marked });
  return marked;
}
