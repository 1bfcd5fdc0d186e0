/**
 * Reconciliation (`act-sync reconcile`): the one gap incremental reads cannot close. Act! has no
 * delete feed, so rows deleted in Act! can only be found by comparing the complete list of ids
 * with the destination; the same comparison finds rows the destination lacks (a lost write, a
 * row whose `edited` stamp never moved, a row hidden by permissions for a while) and fetches them.
 *
 * ## How the id scan misses no id
 *
 * A row wrongly missing from the scan would be marked deleted, so the scan never pages with
 * `$skip` over the live table when it can avoid it. It is the engine's scan, written once in
 * `src/sync/scan.ts` (the argument is there): string (GUID) ids are read by id prefix with
 * `$select=id` ({@linkcode scanByPrefix}); integer ids (activity types, a dozen rows) and
 * servers that reject `$filter` are read by offset pages ordered by id with an overlap row
 * ({@linkcode scanByOffset}), and that whole scan is repeated until two consecutive scans agree.
 * Unlike the engine, the scan sends no probe. A server that rejects `$select` gets full rows.
 *
 * Deletions are marked only after a complete, successful scan of the table, and never more than
 * `maxDeleteFraction` of the table's rows unless forced: a wrong database name or lost
 * permissions look exactly like mass deletion.
 *
 * @module
 */
import { errorMessage, HttpError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { Sink } from "../sink/sink.ts";
import type { PageSource, ProgressEvent } from "./engine.ts";
import type { OdataQuery } from "../act/odata.ts";
import {
  asText,
  Completeness,
  filterIgnored,
  isHexId,
  MAX_REQUESTS,
  notAdvancing,
  prefixDepth,
  readWholeList,
  type Row,
  type ScanBase,
  scanByOffset,
  scanByPrefix,
} from "./scan.ts";
import { Rejects } from "./rejects.ts";
import type { FieldRules } from "./fields.ts";
import { type TableName, TABLES } from "../act/tables.ts";
import { childReader, DEFAULT_MAX_DELETE_FRACTION, exceedsDeleteGuard } from "./children.ts";

/** Options of {@linkcode reconcileTables}. */
export interface ReconcileOptions {
  /** Tables to reconcile, in order. */
  tables: readonly TableName[];
  /** `$top` of every request. */
  batchSize: number;
  /** Largest share of a table's rows that may be marked deleted without `force`. @default {0.5} */
  maxDeleteFraction?: number;
  /** Mark deletions even above `maxDeleteFraction`. @default {false} */
  force?: boolean;
  /** Per-table path overrides. */
  endpoints?: Partial<Record<TableName, string>>;
  /** Per-table `exclude_fields` / `hash_fields` (src/sync/fields.ts). */
  fields?: Partial<Record<TableName, FieldRules>>;
  /** Scan and count only: `deleted` and `fetched` say what a real run would do. @default {false} */
  dryRun?: boolean;
  /** Parents whose rows are read at once (`max_parallel_requests`). @default {1} */
  maxParallelRequests?: number;
}

/** What {@linkcode reconcileTables} needs from outside. */
export interface ReconcileDeps {
  source: PageSource;
  sink: Sink;
  logger: Logger;
  /** Host clock in ms (for `_act_deleted_at` and `_act_synced`). */
  now: () => number;
  /** When aborted, the table being reconciled stops before marking anything. */
  signal?: AbortSignal;
  /** Ids read so far by the table's scan (progress lines). */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Called once the destination's ids are held and after every response of the id scan (the
   * CLI returns memory here: 431 MB peak at 1,000,000 ids without, 362–365 MB with).
   */
  afterPage?: () => void;
}

/** The outcome of reconciling one table. */
export interface TableReconcile {
  table: TableName;
  /**
   * `ok`; `refused` when the deletions found exceed `maxDeleteFraction` (nothing marked, missing
   * rows still fetched); `failed` or `stopped` when the scan did not complete (nothing marked).
   */
  status: "ok" | "refused" | "failed" | "stopped";
  /** Ids Act! holds (complete scan), or 0 when the scan did not complete. */
  remote: number;
  /** Live (not deleted) rows in the destination before reconciling. */
  local: number;
  /** Rows marked deleted now. */
  deleted: number;
  /** Rows in Act! that the destination lacked or had marked deleted, written now (revived). */
  fetched: number;
  /** Deletions found but not marked (status `refused`). */
  refusedDeletes: number;
  /** HTTP requests made (retries not counted). */
  requests: number;
  durationMs: number;
  error?: string;
}

/** The outcome of {@linkcode reconcileTables}. */
export interface ReconcileResult {
  /** True when every table reconciled (`ok`). */
  ok: boolean;
  tables: TableReconcile[];
}

/** The complete id list of one table, from {@linkcode scanIds}. */
export interface IdScan {
  /** Every id Act! holds, as strings. */
  ids: Set<string>;
  /** Full rows captured during the scan (only when `$select` was rejected and `keep` wanted them). */
  rows: Map<string, Record<string, unknown>>;
  /** Whether the server honoured `$select=id`. */
  selectSupported: boolean;
  /** Whether the server honoured `$filter` (prefix scan or id lookups possible). */
  filterSupported: boolean;
  /** The path that answered (after a 404 fallback). */
  path: string;
  /** Requests made. */
  requests: number;
}

/**
 * An id scan asks for this many times `batchSize` ids per request: a row of `$select=id` is
 * about 50 bytes against about 2 KB for a full record, so 100,000 ids (the default `batch_size`
 * 10,000) make a response of about 5 MB. A server that caps responses lower gets more requests
 * (the scan splits by prefix), never a missed id.
 */
export const ID_PAGE_FACTOR = 10;

/** Options of {@linkcode scanIds}. */
export interface ScanOptions {
  /**
   * `$top` of full-row requests; id-only requests (`$select=id`) ask for
   * {@linkcode ID_PAGE_FACTOR} times as many.
   */
  batchSize: number;
  /**
   * About how many ids the table holds (the destination's row count): the id scan splits into
   * parts that fit a response from the start instead of finding the splits request by request.
   * @default {0: the size of the first response}
   */
  expectedRows?: number;
  /** Paths tried, in order, when `path` answers 404 on the first request. @default {[]} */
  fallbackPaths?: readonly string[];
  /** Keep full rows for these ids when the server returns full rows. @default {() => false} */
  keep?: (id: string) => boolean;
  /** Do not ask for `$select=id` (full rows). @default {false} */
  fullRows?: boolean;
  /** Aborts the scan. */
  signal?: AbortSignal;
  /** Called after every response with the number of distinct ids found so far (progress lines). */
  onPage?: (found: number) => void;
}

const MAX_OFFSET_SCANS = 5;
const LOOKUP_CHUNK = 25;
/** Who scans, in "… is not advancing" messages. */
const WHO = "Id scan";

class Stopped extends Error {}

/**
 * Read the complete id list of the endpoint `path`, loss-free under concurrent deletes and
 * inserts (see the module comment). Throws when the list cannot be proven complete.
 */
export async function scanIds(
  source: PageSource,
  path: string,
  options: ScanOptions,
): Promise<IdScan> {
  return await new IdScanner(source, path, options).scan();
}

class IdScanner {
  #source: PageSource;
  #path: string;
  #options: ScanOptions;
  #top: number;
  #select: boolean;
  #filter = true;
  #completeness: Completeness;
  #requests = 0;
  #rows = new Map<string, Record<string, unknown>>();

  constructor(source: PageSource, path: string, options: ScanOptions) {
    this.#source = source;
    this.#path = path;
    this.#options = options;
    this.#select = !options.fullRows;
    this.#top = this.#select ? options.batchSize * ID_PAGE_FACTOR : options.batchSize;
    this.#completeness = new Completeness(this.#top);
  }

  async scan(): Promise<IdScan> {
    const probe = await this.#first();
    let ids: Set<string>;
    if (probe.length === 0) {
      ids = new Set(); // an empty answer to an unfiltered request: the table is empty
    } else if (probe.every((row) => typeof row.id === "string" && isHexId(row.id))) {
      try {
        ids = await this.#byPrefix(
          prefixDepth(
            Math.max(this.#options.expectedRows ?? 0, probe.length),
            this.#completeness.largest,
          ),
        );
      } catch (error) {
        if (!(error instanceof HttpError && error.status === 400)) throw error;
        this.#filter = false;
        ids = await this.#byOffsetVerified();
      }
    } else {
      ids = await this.#byOffsetVerified();
    }
    return {
      ids,
      rows: this.#rows,
      selectSupported: this.#select,
      filterSupported: this.#filter,
      path: this.#path,
      requests: this.#requests,
    };
  }

  async #list(query: OdataQuery, path = this.#path): Promise<Row[]> {
    if (this.#options.signal?.aborted) throw new Stopped();
    if (++this.#requests > MAX_REQUESTS) {
      throw notAdvancing(WHO, `more than ${MAX_REQUESTS} requests`);
    }
    const page = await this.#source.list(path, this.#select ? { ...query, select: "id" } : query, {
      signal: this.#options.signal,
    });
    const keep = this.#options.keep;
    for (const row of page.rows) {
      if (row.id === undefined || row.id === null) {
        throw new TypeError(`Record without an id in ${this.#path}: ${asText(row)}`);
      }
      if (!this.#select && keep?.(String(row.id))) this.#rows.set(String(row.id), row);
    }
    return page.rows;
  }

  /** The first request: finds the working path, whether `$select` works, and a page size. */
  async #first(): Promise<Row[]> {
    const paths = [this.#path, ...(this.#options.fallbackPaths ?? [])];
    for (let i = 0; i < paths.length; i++) {
      try {
        const rows = await this.#firstAt(paths[i]);
        this.#path = paths[i];
        this.#completeness.see(rows.length);
        return rows;
      } catch (error) {
        if (!(error instanceof HttpError && error.status === 404 && i < paths.length - 1)) {
          throw error;
        }
      }
    }
    throw new RangeError("unreachable");
  }

  async #firstAt(path: string): Promise<Row[]> {
    if (!this.#select) return await this.#list({ top: this.#top }, path);
    try {
      return await this.#list({ top: this.#top }, path);
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 400)) throw error;
      this.#select = false; // the server rejects $select: read full rows, full pages
      this.#top = this.#options.batchSize;
      this.#completeness = new Completeness(this.#top);
      return await this.#list({ top: this.#top }, path);
    }
  }

  /** The id scan by prefix ({@linkcode scanByPrefix}), first parts `depth` characters long. */
  async #byPrefix(depth: number): Promise<Set<string>> {
    const ids = new Set<string>();
    await scanByPrefix({
      ...this.#scan(),
      depth,
      onRows: (rows) => {
        for (const row of rows) ids.add(String(row.id));
        this.#options.onPage?.(ids.size);
      },
    });
    return ids;
  }

  /** What both scans need: the requests, the path, the page size, the tracker. */
  #scan(): Omit<ScanBase, "onRows"> {
    return {
      list: (query) => this.#list(query),
      path: this.#path,
      top: this.#top,
      completeness: this.#completeness,
      who: WHO,
    };
  }

  /** Offset scans repeated until two consecutive ones agree. */
  async #byOffsetVerified(): Promise<Set<string>> {
    let previous = await this.#byOffset();
    for (let scan = 1; scan < MAX_OFFSET_SCANS; scan++) {
      const next = await this.#byOffset();
      if (next.size === previous.size && [...next].every((id) => previous.has(id))) return next;
      previous = next;
    }
    throw notAdvancing(
      WHO,
      `${MAX_OFFSET_SCANS} offset scans of ${this.#path} disagree (rows keep changing)`,
    );
  }

  /** One offset scan until an empty page ({@linkcode scanByOffset}). */
  async #byOffset(): Promise<Set<string>> {
    const ids = new Set<string>();
    await scanByOffset({
      ...this.#scan(),
      ordered: true,
      onRows: (rows) => {
        for (const row of rows) ids.add(String(row.id));
        this.#options.onPage?.(ids.size);
      },
      onRestart: () => ids.clear(),
    });
    return ids;
  }
}

/**
 * Reconcile the tables: for each, a complete id scan, then fetch the rows the destination lacks
 * and mark deleted the rows Act! no longer has (within `maxDeleteFraction` unless forced).
 * One failing table does not stop the others.
 */
export async function reconcileTables(
  options: ReconcileOptions,
  deps: ReconcileDeps,
): Promise<ReconcileResult> {
  const tables: TableReconcile[] = [];
  for (const table of options.tables) {
    if (deps.signal?.aborted) break;
    tables.push(await reconcileTable(table, options, deps));
  }
  return {
    ok: tables.length === options.tables.length && tables.every((t) => t.status === "ok"),
    tables,
  };
}

/**
 * The complete list of a table read as a whole list (users) or per parent (every live
 * opportunity's line items, the opportunities' ids by {@linkcode scanIds}): full rows, so
 * missing ones need no lookup.
 */
async function scanWhole(
  table: TableName,
  options: ReconcileOptions,
  deps: ReconcileDeps,
): Promise<IdScan> {
  const spec = TABLES[table];
  const rows = new Map<string, Record<string, unknown>>();
  let requests = 0;
  const path = options.endpoints?.[table] ?? spec.path;
  const list = async (query: OdataQuery, at = path) => {
    if (deps.signal?.aborted) throw new Stopped();
    requests++;
    return (await deps.source.list(at, query, { signal: deps.signal })).rows;
  };
  const keep = (found: Row[]) => {
    for (const row of found) rows.set(String(row.id), row);
  };
  const top = options.batchSize;
  const children = childReader(
    spec,
    { endpoints: options.endpoints, top, parallel: options.maxParallelRequests ?? 1 },
    (at, query) => list(query, at),
  );
  if (children) {
    const parents = await scanIds(deps.source, children.parentPath, {
      batchSize: options.batchSize,
      signal: deps.signal,
    });
    requests += parents.requests;
    const ids = [...parents.ids].map((id) => ({ id }));
    const started = deps.now();
    const progress = (read: number) =>
      deps.onProgress?.({
        table,
        rows: read,
        total: ids.length,
        elapsedMs: deps.now() - started,
        what: "parents",
      });
    for (let i = 0; i < ids.length; i += options.batchSize) {
      const chunk = ids.slice(i, i + options.batchSize);
      keep((await children.read(chunk, (read) => progress(i + read))).rows);
    }
  } else {
    await readWholeList({
      list,
      path,
      top,
      completeness: new Completeness(top),
      endpoint: { ignoresPaging: false },
      who: WHO,
      onRows: keep,
    });
  }
  return {
    ids: new Set(rows.keys()),
    rows,
    selectSupported: false,
    filterSupported: false,
    path,
    requests,
  };
}

async function reconcileTable(
  table: TableName,
  options: ReconcileOptions,
  deps: ReconcileDeps,
): Promise<TableReconcile> {
  const started = deps.now();
  const log = deps.logger;
  const result: TableReconcile = {
    table,
    status: "ok",
    remote: 0,
    local: 0,
    deleted: 0,
    fetched: 0,
    refusedDeletes: 0,
    requests: 0,
    durationMs: 0,
  };
  // The metadata tables are read whole every run: there is nothing to reconcile.
  if (TABLES[table].metadata) return result;
  try {
    const local = new Set(await deps.sink.ids(table));
    deps.afterPage?.(); // the rows the ids came in are garbage now
    result.local = local.size;
    const spec = TABLES[table];
    // Records that cannot be stored are kept in `_act_rejected` and tried by every sync: they
    // are not missing, and one fetched here that cannot be stored joins them.
    const rejects = await Rejects.load(spec, deps.sink, log, options.fields?.[table]);
    const override = options.endpoints?.[table];
    const scanOptions: ScanOptions = {
      batchSize: options.batchSize,
      expectedRows: local.size,
      fallbackPaths: override ? [] : spec.fallbackPaths,
      keep: (id) => !local.has(id),
      signal: deps.signal,
      onPage: (found) => {
        deps.afterPage?.();
        // The destination's row count is the expected total (a bar, capped at 100%).
        deps.onProgress?.({
          table,
          rows: found,
          elapsedMs: deps.now() - started,
          what: "ids",
          ...(local.size > 0 ? { total: local.size } : {}),
        });
      },
    };
    const scan = spec.maybeNoOdata || spec.perParent
      ? await scanWhole(table, options, deps)
      : await scanIds(deps.source, override ?? spec.path, scanOptions);
    result.requests += scan.requests;
    result.remote = scan.ids.size;
    const missing = [...scan.ids].filter((id) => !local.has(id) && !rejects.holds(id));
    if (spec.perParent) {
      // A parent's `edited` may not move with its rows: the ones held are written again too.
      const held = [...scan.rows.values()].filter((row) => local.has(String(row.id)));
      const at = new Date(deps.now()).toISOString();
      if (held.length > 0) await deps.sink.write(table, rejects.flatten(held), at);
      await rejects.flush(at);
    }
    const gone = [...local].filter((id) => !scan.ids.has(id));

    if (options.dryRun) {
      result.fetched = missing.length;
      result.deleted = gone.length;
      log.info(
        gone.length + missing.length === 0
          ? `Table ${table}: dry run: no differences, nothing to change`
          : `Table ${table}: dry run (nothing changed): a real reconcile would mark ${
            rows(gone.length)
          } ` +
            `deleted and fetch ${rows(missing.length)} missing here`,
        {
          remote: result.remote,
          local: result.local,
          would_delete: gone.length,
          would_fetch: missing.length,
        },
      );
      result.durationMs = deps.now() - started;
      return result;
    }
    if (missing.length > 0) {
      const intIds = missing.every((id) => /^\d+$/.test(id)) && !missing.some(isHexId);
      let rows: Record<string, unknown>[];
      if (!scan.selectSupported) {
        rows = missing.map((id) => scan.rows.get(id)).filter((r) => r !== undefined);
      } else {
        let found: Record<string, unknown>[] | null = null;
        if (scan.filterSupported) {
          try {
            found = await lookup(deps.source, scan.path, missing, intIds, options, result, deps);
          } catch (error) {
            if (!(error instanceof HttpError && error.status === 400)) throw error;
          }
        }
        if (found === null) {
          // No lookup by id: capture the missing rows from a full-row scan.
          const full = await scanIds(deps.source, scan.path, { ...scanOptions, fullRows: true });
          result.requests += full.requests;
          found = missing.map((id) => full.rows.get(id)).filter((r) => r !== undefined);
        }
        rows = found;
      }
      if (rows.length > 0) {
        const at = new Date(deps.now()).toISOString();
        const written = await deps.sink.write(table, rejects.flatten(rows), at);
        await rejects.flush(at);
        result.fetched = written.written;
      }
    }

    // Rejected records the complete scan no longer finds are gone from Act!.
    await rejects.gone(rejects.heldIds.filter((id) => !scan.ids.has(id)));
    const fraction = options.maxDeleteFraction ?? DEFAULT_MAX_DELETE_FRACTION;
    if (exceedsDeleteGuard(gone.length, local.size, fraction) && !options.force) {
      result.status = "refused";
      result.refusedDeletes = gone.length;
      result.error = `Refused to mark ${gone.length} of ${local.size} rows deleted ` +
        `(more than 'max_delete_fraction' ${fraction}): check the database name and the Act! ` +
        `user's permissions, then run 'act-sync reconcile --force ${table}' if the deletions ` +
        `are real`;
      log.severe(`Table ${table}: ${result.error}`);
    } else if (gone.length > 0) {
      result.deleted = await deps.sink.markDeleted(table, gone, new Date(deps.now()).toISOString());
    }
    log.info(`Table ${table} reconciled`, {
      remote: result.remote,
      local: result.local,
      deleted: result.deleted,
      fetched: result.fetched,
    });
  } catch (error) {
    const stopped = error instanceof Stopped || deps.signal?.aborted === true;
    result.status = stopped ? "stopped" : "failed";
    result.remote = 0;
    result.error = stopped ? "stopped by request" : errorMessage(error);
    if (stopped) log.warning(`Table ${table}: reconcile stopped; nothing was marked deleted`);
    else log.severe(`Table ${table}: reconcile failed (nothing marked deleted): ${result.error}`);
  }
  result.durationMs = deps.now() - started;
  return result;
}

/** Fetch rows by id with `id eq … or id eq …` filters; ids gone meanwhile are skipped. */
async function lookup(
  source: PageSource,
  path: string,
  ids: string[],
  intIds: boolean,
  options: ReconcileOptions,
  result: TableReconcile,
  deps: ReconcileDeps,
): Promise<Record<string, unknown>[]> {
  const found = new Map<string, Record<string, unknown>>();
  const queue = [...ids];
  const literal = (id: string) => intIds ? id : `'${id.replaceAll("'", "''")}'`;
  const batchSize = options.batchSize;
  const size = Math.max(1, Math.min(LOOKUP_CHUNK, batchSize));
  for (let guard = 0; queue.length > 0 && guard < MAX_REQUESTS; guard++) {
    if (deps.signal?.aborted) throw new Stopped();
    const chunk = queue.splice(0, size);
    result.requests++;
    const page = await source.list(path, {
      filter: chunk.map((id) => `id eq ${literal(id)}`).join(" or "),
      top: batchSize,
    }, { signal: deps.signal });
    const wanted = new Set(chunk);
    let hits = 0;
    for (const row of page.rows) {
      const id = String(row.id);
      if (!wanted.has(id)) {
        throw filterIgnored(path, `asked for ${chunk.length} ids, got ${asText(row.id)}`);
      }
      if (!found.has(id)) hits++;
      found.set(id, row);
    }
    // A capped answer leaves some asked ids out: ask again for those. An answer with none of
    // them means they are gone (deleted since the scan).
    if (hits > 0) queue.unshift(...chunk.filter((id) => !found.has(id)));
  }
  return [...found.values()];
}

/** "1 row", "2 rows". */
function rows(n: number): string {
  return `${n} ${n === 1 ? "row" : "rows"}`;
}
