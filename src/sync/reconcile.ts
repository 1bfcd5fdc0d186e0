/**
 * Reconciliation (`act-sync reconcile`): the one gap incremental reads cannot close. Act! has no
 * delete feed, so rows deleted in Act! can only be found by comparing the complete list of ids
 * with the destination; the same comparison finds rows the destination lacks (a lost write, a
 * row whose `edited` stamp never moved, a row hidden by permissions for a while) and fetches them.
 *
 * The complete list comes from the id scan ({@linkcode scanIds}, `src/sync/id_scan.ts`, which
 * argues why it misses no id); the destination's ids are read a part at a time
 * (`Sink.idsAfter`). Both lists are held as {@linkcode IdSet}s, GUIDs packed into 16 bytes.
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
  readWholeList,
  type Row,
} from "./scan.ts";
import { type IdScan, scanIds, type ScanOptions, WHO } from "./id_scan.ts";
import { IdSet } from "./id_set.ts";
import { compareHeld, compareStreamed, LOCAL_ID_PART, localIds } from "./id_compare.ts";
import { Rejects } from "./rejects.ts";
import { CountedSource, StopRequested } from "./source.ts";
import type { FieldRules } from "./fields.ts";
import { specOf, type TableName, type TableSpec } from "../act/tables.ts";
import { childReader, DEFAULT_MAX_DELETE_FRACTION, exceedsDeleteGuard } from "./children.ts";

export { ID_PAGE_FACTOR, type IdScan, scanIds, type ScanOptions } from "./id_scan.ts";
export type { IdList } from "./id_set.ts";

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
  /** The specs of the custom tables among `tables`. @default {[]} */
  customs?: readonly TableSpec[];
  /** Per-table `exclude_fields` / `hash_fields` (src/sync/fields.ts). */
  fields?: Partial<Record<TableName, FieldRules>>;
  /** Scan and count only: `deleted` and `fetched` say what a real run would do. @default {false} */
  dryRun?: boolean;
  /** Parents whose rows are read at once (`max_parallel_requests`). @default {1} */
  maxParallelRequests?: number;
  /** Destination ids read per `Sink.idsAfter` call. @default {LOCAL_ID_PART} */
  localIdPart?: number;
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
   * Called after every response of the id scan and every part of the destination's ids read
   * (the CLI returns memory here: under Bun the garbage of a response is otherwise kept).
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

const LOOKUP_CHUNK = 25;

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
  const spec = specOf(table, options.customs)!;
  const rows = new Map<string, Record<string, unknown>>();
  let requests = 0; // of the parents' id scan
  const source = new CountedSource(deps.source, { signal: deps.signal, who: WHO });
  const path = options.endpoints?.[table] ?? spec.path;
  const list = async (query: OdataQuery, at = path) => (await source.list(at, query)).rows;
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
    requests: requests + source.requests,
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
  if (specOf(table, options.customs)?.metadata) return result;
  try {
    const spec = specOf(table, options.customs)!;
    const part = options.localIdPart ?? LOCAL_ID_PART;
    const expected = await deps.sink.count(table);
    // The destination's ids are held only where the scan needs them while it reads (full rows:
    // to keep the missing ones); else they are read after the scan, a part at a time.
    const held: { local?: IdSet } = {};
    const holdLocal = async () => {
      held.local ??= await localIds(deps.sink, table, part, deps.afterPage);
    };
    if (spec.maybeNoOdata || spec.perParent) await holdLocal();
    // Records that cannot be stored are kept in `_act_rejected` and tried by every sync: they
    // are not missing, and one fetched here that cannot be stored joins them.
    const rejects = await Rejects.load(spec, deps.sink, log, options.fields?.[table]);
    const override = options.endpoints?.[table];
    const scanOptions: ScanOptions = {
      batchSize: options.batchSize,
      expectedRows: expected,
      fallbackPaths: override ? [] : spec.fallbackPaths,
      keep: (id) => !held.local!.has(id),
      beforeFullRows: holdLocal,
      signal: deps.signal,
      onPage: (found) => {
        deps.afterPage?.();
        // The destination's row count is the expected total (a bar, capped at 100%).
        deps.onProgress?.({
          table,
          rows: found,
          elapsedMs: deps.now() - started,
          what: "ids",
          ...(expected > 0 ? { total: expected } : {}),
        });
      },
    };
    const scan = spec.maybeNoOdata || spec.perParent
      ? await scanWhole(table, options, deps)
      : await scanIds(deps.source, override ?? spec.path, scanOptions);
    result.requests += scan.requests;
    result.remote = scan.ids.size;
    const notRejected = (id: string) => rejects.holds(id);
    const { missing, gone, local } = held.local === undefined && scan.ids instanceof IdSet
      ? await compareStreamed(deps.sink, table, scan.ids, part, notRejected, deps.afterPage)
      : compareHeld(held.local ?? await localIds(deps.sink, table, part), scan.ids, notRejected);
    result.local = local;
    if (spec.perParent) {
      // A parent's `edited` may not move with its rows: the ones held are written again too.
      const rows = [...scan.rows.values()].filter((row) => held.local!.has(String(row.id)));
      const at = new Date(deps.now()).toISOString();
      if (rows.length > 0) await deps.sink.write(table, rejects.flatten(rows), at);
      await rejects.flush(at);
    }

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
    if (exceedsDeleteGuard(gone.length, local, fraction) && !options.force) {
      result.status = "refused";
      result.refusedDeletes = gone.length;
      result.error = `Refused to mark ${gone.length} of ${local} rows deleted ` +
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
    const stopped = error instanceof StopRequested || deps.signal?.aborted === true;
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
    if (deps.signal?.aborted) throw new StopRequested();
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
