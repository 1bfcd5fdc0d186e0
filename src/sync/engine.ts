/**
 * The sync engine: reads each table from the Act! Web API and writes it through a Sink,
 * checkpointing the state after every committed page.
 *
 * ## How an incremental read loses no row
 *
 * The Act! Web API pages by offset only, and offset paging over a live window loses rows (a row
 * read earlier that is edited or deleted shifts every later row up one). This engine never uses
 * `$skip` for incremental reads. It reads an open-ended *window* of the cursor field (`edited`,
 * or `editdate` for products) from `lo`, the table's cursor minus `lookback_seconds`:
 *
 * 1. Request `cursor ge L`, ordered by the cursor, `$top = batch_size`. Because rows come
 *    sorted, every row with a cursor value in `[L, M)` is in the page, where `M` is the page's
 *    last (largest) value. Rows equal to `M` may be cut off, so the next request starts at
 *    `L = M` again (re-reading the `M` tie group; upserts by id make that harmless). Rows edited
 *    meanwhile move up and are read later in the window; deleted rows need no read; no position
 *    depends on how many rows came before, so nothing shifts.
 * 2. If a page holds only rows equal to `L`, the tie group at `L` is bigger than a response. It
 *    is read by id, never by offset ({@linkcode scanByPrefix} with the tie range
 *    `[L, L + 1 s)` as its filter, finishing a small group by excluding the ids read), then the
 *    read continues at `L + 1 s`.
 * 3. The window ends at an empty page or one that held every match, by the completeness rule of
 *    `src/sync/scan.ts` (not capped: smaller than the largest response seen, or a probe shows it).
 *
 * Why the id scans and the completeness rule lose no row (every page size, caps down to one row)
 * is argued once, in `src/sync/scan.ts`.
 *
 * The cursor comes from the data, never from a clock: when the window completes it becomes the
 * largest cursor value actually read, capped at the earlier of the server's clock (the `Date`
 * header of the window's first response) and this host's; a window that read no row leaves it
 * where it was. The clock that stamps `edited` need not be the one writing the `Date` header:
 * stamps behind it stay above the cursor (it is a value read), stamps ahead of it are read at
 * once (the window has no upper end), and a `Date` header far off (2100, or years back) can only
 * lower the cap, which costs re-reads, never rows. A row stamped in the future is re-read every
 * run instead of dragging the cursor past later edits; a stored cursor later than the host's
 * clock (written by an older version from a wrong `Date` header) is read from the host's clock.
 * `lookback_seconds` still covers rows committed late with an older stamp.
 *
 * After every committed page the state file records `position = L` for the open window (with
 * `window_start = lo` and `window_end` = the cap), so a run killed at any moment resumes there
 * and re-reads at most one page; the cap of a resumed window is taken afresh. The table's cursor
 * moves only when the window completes. Each page is checked: rows below `L` or unsorted mean
 * the server ignored `$filter`/`$orderby`, which stops the table instead of silently skipping
 * rows.
 *
 * A record that cannot be stored (`rejects.ts`: not JSON but showing its id, no id, nested more
 * than 64 levels, no valid cursor value) does not stop its page: the other rows are written and
 * the record goes, whole, into `_act_rejected` before the page's checkpoint, so the cursor passes
 * it only once it is kept there. `M` is then the last value among the rows that have one; the
 * rows in `[L, M)` are still all in the page, each stored or kept. A capped page none of whose
 * rows has a valid value gives no `M`: the rest of the window (every row from `L` on) is then read
 * by id prefix, as a tie group is, which needs no cursor value to advance. A page that is not a list, a row that is not
 * JSON and shows no id, or rows none of which is JSON are a broken response, retried and then
 * failing the table, never kept as records.
 *
 * Line items are read per opportunity, users as a list that may ignore OData: `children.ts`.
 *
 * Tables without a cursor field (activity types) and endpoints that reject the cursor filter
 * (products on some servers) are read in full every run: by offset pages ordered by id
 * ({@linkcode scanByOffset}), or by id prefix when the server rejects `$orderby=id` and ids are
 * GUIDs, else by plain offset pages.
 *
 * @module
 */
import { errorMessage, HttpError } from "../core/errors.ts";
import { UnparsedRow, UnusableRowError } from "../act/response_body.ts";
import { noChanges, type WriteResult } from "../sink/sink.ts";
import {
  checkedChunks,
  checkedLastValue,
  type CursorCheck,
  lastValueOf,
  readField,
} from "./_cursor_rows.ts";
import { Rejects, retryRejected } from "./rejects.ts";
import { CursorClock } from "./_cursor_clock.ts";
import {
  cursorOf,
  progressOf,
  type State,
  withCompleted,
  withFailed,
  withProgress,
  withReset,
} from "../state/mod.ts";
import { formatUtc, utcMs } from "../core/time.ts";
import { parseDateTime } from "./flatten.ts";
import type { OdataQuery } from "../act/odata.ts";
import {
  Completeness,
  idOf,
  isHexId,
  MAX_EXCLUDED_IDS,
  MAX_REQUESTS,
  type Row,
  scanByOffset,
  scanByPrefix,
} from "./scan.ts";
import { CountedSource, firstAnswering, isNotFound, StopRequested } from "./source.ts";
import { shapeOf } from "./relations.ts";
import { specOf, type TableSpec } from "../act/tables.ts";
import {
  type ChildReader,
  childReader,
  DEFAULT_MAX_DELETE_FRACTION,
  PARENT_PAGE,
  readWholeTable,
} from "./children.ts";
import { tablesOfRun } from "./custom.ts";
import { readLookup } from "./lookups.ts";
import { readMetadata } from "./metadata.ts";

/** Endpoint fallbacks already logged (the same 404 every run is news only once). */
const FALLBACKS_LOGGED = new Set<string>();

export type {
  EngineDeps,
  ListPage,
  PageSource,
  ProgressEvent,
  RunResult,
  SyncOptions,
  TableResult,
} from "./run_types.ts";
import type { EngineDeps, ListPage, RunResult, SyncOptions, TableResult } from "./run_types.ts";

const SECOND = 1000;
/** Who scans, in "… is not advancing" messages. */
const WHO = "Paging";

/** Sync the configured tables; one failing table does not stop the others. */
export async function syncTables(
  initial: State,
  options: SyncOptions,
  deps: EngineDeps,
): Promise<RunResult> {
  let state = initial;
  const results: TableResult[] = [];
  const run = await tablesOfRun(options.tables, state, deps);
  state = run.state;
  const { names, customs } = run;
  // The metadata tables label the tables this run syncs, custom ones included.
  const runOptions = { ...options, tables: names, customs };
  for (const name of names) {
    if (deps.signal?.aborted) break;
    const reader = new TableReader(specOf(name, customs)!, runOptions, deps, state);
    const result = await reader.run();
    state = reader.state;
    results.push(result);
  }
  let failSafe: string | undefined;
  // Lookup tables (activity types) stay visible to users who see no record at all.
  const records = results.filter((r) => specOf(r.table, customs)?.cursorField != null);
  if (
    records.length > 0 && results.length === names.length &&
    records.every((r) => r.emptyFirstRead)
  ) {
    failSafe = "Too many empty results: every table came back empty on its first full read " +
      "(wrong database name? missing permissions for the Act! user?)";
    deps.logger.severe(failSafe);
    const at = new Date(deps.now()).toISOString();
    for (const result of records) {
      result.status = "failed";
      result.error = failSafe;
      // An empty first read proves nothing: forget the cursor so the next run reads in full.
      state = withFailed(withReset(state, [result.table]), result.table, {
        last_error: { message: failSafe, at },
      });
    }
    await deps.saveState(state);
  }
  return {
    ok: results.every((r) => r.status === "ok") && !deps.signal?.aborted,
    tables: results,
    failSafe,
    state,
  };
}

class TableReader {
  state: State;
  #spec: TableSpec;
  #options: SyncOptions;
  #deps: EngineDeps;
  #path: string;
  /** Every request of the table's read. */
  #source: CountedSource;
  #rowsRead = 0;
  #rowsWritten = 0;
  #changes = noChanges();
  #newColumns: string[] = [];
  #completeness: Completeness;
  #started = 0;
  /** The largest cursor value read, and the clocks that bound the cursor. */
  #clock: CursorClock;
  /** Reads the rows of each parent (tables read per parent only). */
  #children: ChildReader | null = null;
  /** Parents whose rows are written (ids: a page may re-read one), and their total (progress). */
  #parents: { ids: Set<string>; total?: number } = { ids: new Set() };
  /** `$top` of every list request: `batch_size`, at most {@linkcode PARENT_PAGE} parents. */
  #top: number;
  /** The table's records that cannot be stored (`rejects.ts`); loaded when the run starts. */
  #rejects: Rejects | null = null;

  constructor(spec: TableSpec, options: SyncOptions, deps: EngineDeps, state: State) {
    this.#spec = spec;
    this.#options = options;
    this.#deps = deps;
    this.state = state;
    this.#source = new CountedSource(deps.source, { signal: deps.signal, who: WHO });
    this.#clock = new CursorClock(spec.name, deps.now, deps.logger);
    this.#path = (spec.custom ? undefined : options.endpoints?.[spec.name]) ?? spec.path;
    const top = options.batchSize;
    this.#children = childReader(
      spec,
      { endpoints: options.endpoints, top, parallel: options.maxParallelRequests ?? 1 },
      async (path, query) => (await this.#listUncounted(query, path)).rows,
    );
    if (this.#children) this.#path = this.#children.parentPath; // the cursor scans the parents
    this.#top = this.#children ? Math.min(top, PARENT_PAGE) : top;
    // A probe asks for the table's first rows (full rows, like every other response); it reads
    // no data.
    this.#completeness = new Completeness(this.#top, async (top) => {
      const probe = await this.#list({ top });
      this.#rowsRead -= probe.rows.length;
      return probe.rows.length;
    });
  }

  async run(): Promise<TableResult> {
    const { name } = this.#spec;
    const log = this.#deps.logger;
    this.#started = this.#deps.now();
    const startedIso = new Date(this.#started).toISOString();
    let emptyFirstRead = false;
    try {
      await this.#deps.sink.prepare(name, shapeOf(this.#spec), startedIso);
      this.#rejects = await Rejects.load(
        this.#spec,
        this.#deps.sink,
        log,
        this.#options.fields?.[this.#spec.name],
      );
      const firstRead = this.#options.fullRefresh || cursorOf(this.state, name) === null;
      const parent = this.#spec.perParent?.table;
      if (parent && firstRead) this.#parents.total = this.state.tables?.[parent]?.rows_total;
      // A resumed window is open-ended like every other: it reads on up to the newest row.
      const spec = this.#spec;
      const read = spec.metadata
        ? this.#metadata
        : spec.lookup
        ? this.#lookup
        : spec.maybeNoOdata
        ? this.#wholeList
        : spec.cursorField
        ? this.#incremental
        : this.#fullRead;
      const cursor = await read.call(this);
      await retryRejected(this.#rejects, {
        table: name,
        perParent: this.#children !== null,
        wholeList: spec.maybeNoOdata === true,
        onCursor: spec.cursorField !== null,
        list: (query) => this.#list(query),
        write: (rows, onCursor) => this.#write(rows, onCursor),
        logger: log,
      });
      this.#rejects.finish();
      emptyFirstRead = firstRead && this.#rowsRead === 0;
      const duration = this.#deps.now() - this.#started;
      this.state = withCompleted(this.state, name, cursor, {
        last_success: new Date(this.#deps.now()).toISOString(),
        last_attempt: startedIso,
        last_error: null,
        ...this.#counts(),
        duration_seconds: duration / 1000,
        rows_total: await this.#deps.sink.count(name),
        rejected: this.#rejects.count,
      });
      await this.#deps.saveState(this.state);
      log.info(`Table ${name} synced`, {
        rows: this.#rowsWritten,
        ...(this.#rejects.count > 0 ? { rejected: this.#rejects.count } : {}),
        requests: this.#source.requests,
        seconds: Math.round(duration / 100) / 10,
      });
      return this.#result("ok", emptyFirstRead);
    } catch (error) {
      const stopped = error instanceof StopRequested || this.#deps.signal?.aborted === true;
      const message = errorMessage(error);
      if (stopped) {
        log.warning(`Table ${name} stopped before completing; the next run resumes it`);
        await this.#deps.saveState(this.state);
        return this.#result("stopped", false, "stopped by request");
      }
      log.severe(`Table ${name} failed: ${message}`);
      this.state = withFailed(this.state, name, {
        last_attempt: startedIso,
        last_error: { message, at: new Date(this.#deps.now()).toISOString() },
        ...this.#counts(),
        duration_seconds: (this.#deps.now() - this.#started) / 1000,
        ...(this.#rejects ? { rejected: this.#rejects.count } : {}),
      });
      try {
        await this.#deps.saveState(this.state);
      } catch (saveError) {
        log.severe(`Cannot save the state: ${errorMessage(saveError)}`);
      }
      return this.#result("failed", false, message);
    }
  }

  /** The row counts of the table's status in the state file. */
  #counts() {
    return {
      rows_last_run: this.#rowsWritten,
      rows_new_last_run: this.#changes.inserted,
      rows_updated_last_run: this.#changes.updated,
      rows_unchanged_last_run: this.#changes.unchanged,
    };
  }

  #result(status: TableResult["status"], emptyFirstRead: boolean, error?: string): TableResult {
    return {
      table: this.#spec.name,
      status,
      rowsRead: this.#rowsRead,
      rowsWritten: this.#rowsWritten,
      changes: { ...this.#changes },
      newColumns: this.#newColumns,
      durationMs: this.#deps.now() - this.#started,
      requests: this.#source.requests,
      rejected: this.#rejects?.count ?? 0,
      rejectedThisRun: this.#rejects?.rejectedThisRun ?? 0,
      emptyFirstRead,
      ...(error ? { error } : {}),
    };
  }

  /** One counted request, with endpoint fallback on the very first 404. */
  async #list(query: OdataQuery, path = this.#path, lazy = false): Promise<ListPage> {
    try {
      return this.#seen(await this.#source.list(path, query, { lazy }));
    } catch (error) {
      const fallbacks = this.#options.endpoints?.[this.#spec.name] ? [] : this.#spec.fallbackPaths;
      if (!(isNotFound(error) && this.#source.requests === 1 && fallbacks.length > 0)) throw error;
      let found: { path: string; answer: ListPage };
      try {
        found = await firstAnswering(fallbacks, (at) => this.#source.again(at, query, { lazy }));
      } catch (fallbackError) {
        throw isNotFound(fallbackError) ? error : fallbackError;
      }
      const note = `Table ${this.#spec.name}: ${this.#path} answered 404, using ${found.path}`;
      if (!FALLBACKS_LOGGED.has(note)) this.#deps.logger.info(note); // once per process
      FALLBACKS_LOGGED.add(note);
      this.#path = found.path;
      return this.#seen(found.answer);
    }
  }

  /** A request of a list read whole: its new rows are counted once, as they are written. */
  async #listUncounted(query: OdataQuery, path = this.#path): Promise<ListPage> {
    const page = await this.#list(query, path);
    this.#rowsRead -= page.rows.length;
    return page;
  }

  #seen(page: ListPage): ListPage {
    this.#rowsRead += (page.lazy ?? page.rows).length;
    return page;
  }

  /**
   * Write rows (or, for a table read per parent, the rows of these parents), each record that
   * cannot be stored kept in `_act_rejected` instead; `onCursor`: rows read on the table's cursor,
   * which need a valid cursor value. The rejected records are stored before this returns, so
   * before the caller's checkpoint.
   */
  async #write(parentsOrRows: Row[], onCursor = false): Promise<void> {
    if (parentsOrRows.length === 0) return;
    const synced = new Date(this.#deps.now()).toISOString();
    const rejects = this.#rejects!;
    let children = null;
    if (this.#children) {
      // A parent that cannot be stored still has its rows read, when its id is known.
      const parents = parentsOrRows.filter((parent) => {
        if (idOf(parent) !== "") return true;
        const why = parent instanceof UnparsedRow ? `: ${parent.reason}` : "";
        rejects.add(parent, `its parent record has no id, so its rows cannot be read${why}`);
        return false;
      });
      children = await this.#children.read(parents);
      for (const parent of parents) this.#parents.ids.add(idOf(parent));
    }
    const rows = children ? children.rows : parentsOrRows;
    if (children) this.#rowsRead += rows.length;
    const key = onCursor && !children ? this.#spec.cursorJsonField ?? undefined : undefined;
    const page = rejects.flatten(rows, key);
    const result = page.rows.length > 0
      ? await this.#deps.sink.write(this.#spec.name, page, synced)
      : { written: 0, changes: noChanges(), newColumns: [], widenedColumns: [] };
    if (children) {
      await this.#children!.markRemoved(this.#deps.sink, this.#spec.name, children, synced);
    }
    await rejects.flush(synced);
    this.#written(result);
  }

  /** Write a window page read a chunk at a time (`checkedChunks`), in one transaction. */
  async #writeChunked(rows: NonNullable<ListPage["lazy"]>, from: number): Promise<void> {
    const synced = new Date(this.#deps.now()).toISOString();
    const check = this.#cursorCheck(from);
    const chunks = checkedChunks(rows, this.#rejects!, check, this.#deps.afterPage);
    const result = await this.#deps.sink.write(this.#spec.name, chunks, synced);
    await this.#rejects!.flush(synced);
    this.#written(result);
  }

  #cursorCheck(from: number): CursorCheck {
    return { key: this.#spec.cursorJsonField!, from, path: this.#path };
  }

  /** Count a page's write into the run's, and report progress. */
  #written(result: WriteResult): void {
    this.#deps.afterPage?.();
    this.#rowsWritten += result.written;
    for (const k of ["inserted", "updated", "unchanged"] as const) {
      this.#changes[k] += result.changes[k];
    }
    for (const column of result.newColumns) {
      if (!this.#newColumns.includes(column)) this.#newColumns.push(column);
    }
    if (result.newColumns.length > 0 && this.#rowsWritten > result.written) {
      this.#deps.logger.info(`Table ${this.#spec.name}: new columns`, {
        columns: result.newColumns.join(","),
      });
    }
    const parent = this.#spec.perParent?.table;
    this.#deps.onProgress?.({
      table: this.#spec.name,
      rows: this.#rowsWritten,
      elapsedMs: this.#deps.now() - this.#started,
      ...(this.#children && parent
        ? { parents: { table: parent, done: this.#parents.ids.size, total: this.#parents.total } }
        : {}),
    });
  }

  async #checkpoint(progress: { start: number; end: number; position: number }): Promise<void> {
    this.state = withProgress(this.state, this.#spec.name, {
      window_start: formatUtc(progress.start),
      window_end: formatUtc(progress.end),
      position: formatUtc(progress.position),
      rows: this.#rowsWritten,
    });
    await this.#deps.saveState(this.state);
  }

  /**
   * The incremental window read described in the module comment; returns the new cursor, or
   * null to keep the old one (no row read).
   */
  async #incremental(): Promise<string | null> {
    const spec = this.#spec;
    const field = spec.cursorField!;
    const name = spec.name;
    const resume = this.#options.fullRefresh ? null : progressOf(this.state, name);
    let lo: number;
    let position: number;
    if (resume) {
      position = utcMs(resume.position);
      lo = utcMs(resume.window_start);
      if (Number.isNaN(lo)) lo = position;
      this.#deps.logger.info(`Table ${name}: resuming the unfinished window`, {
        from: resume.position,
      });
    } else {
      const cursor = this.#options.fullRefresh ? null : cursorOf(this.state, name);
      lo = cursor === null
        ? utcMs(this.#options.defaultStartDate)
        : this.#clock.notAfterNow(cursor) - this.#options.lookbackSeconds * SECOND;
      position = lo;
    }

    // No upper bound: the window ends at an empty or provably complete page, so a row stamped
    // by a clock ahead of the server's `Date` header is read as soon as it exists.
    const query = (from: number): OdataQuery => ({
      filter: `${field} ge ${formatUtc(from)}`,
      orderby: `${field} asc`,
      top: this.#top,
    });

    // Pages are read lazily (rows parsed a chunk at a time as they are written) unless the
    // table's line items need its rows whole.
    const lazy = this.#children === null;
    let first: ListPage | null;
    try {
      first = await this.#list(query(position), this.#path, lazy);
    } catch (error) {
      if (error instanceof HttpError && error.status === 400 && spec.cursorOptional) {
        this.#deps.logger.warning(
          `Table ${name}: the server rejects $filter on '${field}' (${
            error.body.slice(0, 120)
          }); ` +
            `reading it in full`,
        );
        if (spec.wholeListFallback) return await this.#wholeListMarking();
        return await this.#fullRead();
      }
      throw error;
    }
    const cap = this.#clock.cap(first.serverDate);
    this.#clock.warnSkew(first.serverDate);

    let pending: Promise<ListPage> | null = Promise.resolve(first);
    first = null; // each page is dropped before the next one is parsed: memory holds one page
    let from = position;
    for (let guard = 0; pending && guard < MAX_REQUESTS; guard++) {
      let page: ListPage | null = await pending;
      pending = null;
      const size = (page.lazy ?? page.rows).length;
      if (size === 0) break;
      let next = from;
      let tieGroup = false;
      try {
        // A lazy page's last row decides the next request; every row is checked as written.
        // Rows without a valid cursor value are records that cannot be stored: they are kept
        // in `_act_rejected` by the write, and the next request goes by the other rows.
        const last = page.lazy
          ? lastValueOf(page.lazy, this.#cursorCheck(from))
          : checkedLastValue(page.rows, this.#cursorCheck(from));
        if (last === null) {
          // Every row is one that cannot be stored. A complete page ends the window (they are
          // kept below); a capped one gives no value to go on from: the rest of the window is
          // read by id prefix instead, which needs no cursor value to advance.
          if (!(await this.#completeness.completeAfterProbe(size))) {
            await this.#restByPrefix(page.lazy ? page.lazy.entries() ?? [] : page.rows, from);
            pending = null;
            break;
          }
        } else if (last > from) {
          next = last;
          // Not capped (smaller than a response we have seen) and sorted: it held every match.
          if (!(await this.#completeness.completeAfterProbe(size))) {
            pending = ahead(this.#list(query(next), this.#path, lazy));
          }
        } else if (!(await this.#completeness.completeAfterProbe(size))) {
          // (else every row equals `from` and the response was not capped: window done)
          tieGroup = true;
          next = from + SECOND;
        }
        // Let the next request go out before the (synchronous) write keeps the thread busy.
        if (pending) await new Promise((resolve) => setTimeout(resolve, 0));
        if (page.lazy && !tieGroup) {
          await this.#writeChunked(page.lazy, from);
        } else {
          const rows = page.rows; // a tie group's rows are needed whole
          if (page.lazy) checkedLastValue(rows, this.#cursorCheck(from));
          await this.#write(rows, true);
          if (tieGroup) await this.#readTieGroup(from, rows);
        }
        if (last !== null) this.#clock.noteRead(last);
      } catch (error) {
        pending?.catch(() => {}); // the request sent ahead is not needed any more
        if (!(error instanceof UnusableRowError)) throw error;
        this.#rejects!.discard(); // the page was rolled back: it is read again whole
        // A row that is not JSON in a well-formed page, found as it was read (nothing of the
        // page is written): ask again for the page whole, where such a row that shows its id is
        // kept as rejected and anything else is a broken answer, retried like any.
        pending = ahead(this.#list(query(from), this.#path, false));
        continue;
      }
      if (tieGroup) pending = ahead(this.#list(query(next), this.#path, lazy));
      page = null; // the next response may be parsed while the checkpoint is saved
      from = next;
      await this.#checkpoint({ start: lo, end: cap, position: from });
      if (this.#deps.signal?.aborted) {
        pending?.catch(() => {});
        throw new StopRequested();
      }
    }
    return this.#clock.after(cap);
  }

  /**
   * The rest of a window from `from` on, read by id prefix: after a capped page none of whose
   * rows has a valid cursor value (records that cannot be stored, kept as rejected by the
   * write), there is no value to go on from. Needs ids the prefix scan can split (GUIDs, as
   * every table read on a cursor has); other ids fail the table as not advancing.
   */
  async #restByPrefix(page: readonly (Row | UnparsedRow)[], from: number): Promise<void> {
    const field = this.#spec.cursorField!;
    const ids = page.map((row) => idOf(row as Row));
    if (!ids.every((id) => isHexId(id))) {
      throw new RangeError(
        `Paging is not advancing: no row of a full page of ${this.#path} has a valid ` +
          `'${this.#spec.cursorJsonField}'`,
      );
    }
    this.#deps.logger.info(
      `Table ${this.#spec.name}: a full page of records that cannot be stored at ` +
        `'${field}' ${formatUtc(from)}; reading the rest by id`,
    );
    await this.#readByPrefix({
      base: `${field} ge ${formatUtc(from)}`,
      onCursor: true,
      matches: this.#cursorIn(from, Infinity),
    });
  }

  /**
   * Whether a row read by id prefix belongs to the cursor range [lo, hi), its value noted as
   * read; a row that cannot be stored always does (the write keeps it as rejected).
   */
  #cursorIn(lo: number, hi: number): (row: Row) => boolean {
    return (row) => {
      if (row instanceof UnparsedRow) return true;
      const value = parseDateTime(readField(row, this.#spec.cursorJsonField!));
      if (value === null) return true; // no valid cursor value
      if (value < lo || value >= hi) return false;
      this.#clock.noteRead(value);
      return true;
    };
  }

  /**
   * Read every row with a cursor value in [at, at + 1 s), never by offset. `read` are the rows
   * of the response that showed the tie group does not fit: a small group is finished by
   * excluding the ids already read, a big one is split on id prefixes.
   */
  async #readTieGroup(at: number, read: Row[]): Promise<void> {
    const field = this.#spec.cursorField!;
    this.#deps.logger.info(
      `Table ${this.#spec.name}: ${read.length}+ rows share '${field}' ${formatUtc(at)}; ` +
        `reading them by id`,
    );
    const ids = read.length <= MAX_EXCLUDED_IDS ? read.map(idOf) : [];
    await this.#readByPrefix({
      base: `${field} ge ${formatUtc(at)} and ${field} lt ${formatUtc(at + SECOND)}`,
      known: ids.length ? ids : undefined,
      onCursor: true,
      matches: this.#cursorIn(at, at + SECOND),
    });
  }

  /** {@linkcode scanByPrefix} over this table, writing every response. */
  async #readByPrefix(
    part: {
      base?: string;
      known?: readonly string[];
      matches?: (row: Row) => boolean;
      onCursor?: boolean;
    },
  ): Promise<void> {
    const { onCursor, ...scan } = part;
    await scanByPrefix({
      ...scan,
      list: async (query) => (await this.#list(query)).rows,
      path: this.#path,
      top: this.#top,
      completeness: this.#completeness,
      who: WHO,
      onRows: (rows) => this.#write(rows, onCursor),
    });
  }

  /**
   * A full read (no cursor field, or the cursor filter is rejected); returns the new cursor.
   * Offset pages ordered by id, each overlapping the previous one by a row
   * ({@linkcode scanByOffset}). A server that rejects `$orderby=id` is read by id prefix
   * instead, and one that rejects `$filter` too by plain offset pages (a row hidden by a
   * concurrent delete is then read by the next run, as every run reads these tables in full).
   */
  async #fullRead(): Promise<string | null> {
    const top = this.#top;
    let ordered = true;
    let first: ListPage;
    try {
      first = await this.#list({ orderby: "id asc", top });
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 400)) throw error;
      ordered = false;
      first = await this.#list({ top });
    }
    const cap = this.#clock.cap(first.serverDate);
    this.#completeness.see(first.rows.length);
    await this.#write(first.rows);
    this.#noteRows(first.rows);
    const stringIds = first.rows.every((r) => typeof r.id === "string" && isHexId(r.id));
    if (first.rows.length > 0 && !ordered && stringIds) {
      try {
        await this.#readByPrefix({
          matches: (row) => {
            this.#noteRows([row]);
            return true;
          },
        });
        return this.#fullReadCursor(cap);
      } catch (error) {
        if (!(error instanceof HttpError && error.status === 400)) throw error;
        this.#deps.logger.warning(
          `Table ${this.#spec.name}: ${this.#path} supports neither $orderby=id nor $filter; ` +
            `reading it by plain offset pages`,
        );
      }
    }
    await scanByOffset({
      list: async (query) => (await this.#list(query)).rows,
      path: this.#path,
      top,
      completeness: this.#completeness,
      who: WHO,
      ordered,
      first: first.rows,
      onRows: async (rows) => {
        await this.#write(rows);
        this.#noteRows(rows);
      },
      onRestart: () => {
        this.#deps.logger.info(`Table ${this.#spec.name}: rows shifted while paging; rereading`);
      },
    });
    return this.#fullReadCursor(cap);
  }

  /** A list that may ignore OData, read whole ({@linkcode readWholeTable}); the new cursor. */
  async #wholeList(): Promise<string | null> {
    const date = await readWholeTable({
      list: (query) => this.#listUncounted(query),
      path: this.#path,
      top: this.#top,
      completeness: this.#completeness,
      write: (rows) => {
        this.#rowsRead += rows.length;
        return this.#write(rows);
      },
      sink: this.#deps.sink,
      logger: this.#deps.logger,
      table: this.#spec.name,
      at: () => new Date(this.#deps.now()).toISOString(),
      maxDeleteFraction: this.#options.maxDeleteFraction ?? DEFAULT_MAX_DELETE_FRACTION,
    });
    return formatUtc(this.#clock.cap(date));
  }

  /**
   * Notes on a server that rejects `$filter` on them: read whole, as a lookup table (rows no
   * longer sent marked deleted within the mass-delete guard); the cursor as after a window.
   */
  async #wholeListMarking(): Promise<string | null> {
    const write = async (rows: Row[]) => {
      await this.#write(rows);
      this.#noteRows(rows);
    };
    const date = await readLookup(this.#spec, { ...this.#extra(), write });
    return date === null ? null : this.#clock.after(this.#clock.cap(date));
  }

  /** A lookup table (`lookups.ts`); returns the new cursor, null when the table was skipped. */
  async #lookup(): Promise<string | null> {
    const date = await readLookup(this.#spec, this.#extra());
    return date === null ? null : formatUtc(this.#clock.cap(date));
  }

  /** A metadata table (`metadata.ts`); the cursor records when it was read. */
  async #metadata(): Promise<string | null> {
    const list = (path: string) => this.#list({}, path);
    const spec = { ...this.#spec, path: this.#path };
    const { tables, customs } = this.#options;
    await readMetadata(spec, { ...this.#extra(), list, tables, customs });
    return formatUtc(this.#deps.now());
  }

  #extra() {
    const { sink, logger, now } = this.#deps;
    const write = (rows: Row[]) => this.#write(rows);
    const list = (query: OdataQuery, path?: string) => this.#list(query, path);
    const { maxDeleteFraction } = this.#options;
    const completeness = this.#completeness;
    return {
      ...{ sink, logger, now, write, list, completeness, maxDeleteFraction },
      ...{ path: this.#path, top: this.#top },
    };
  }

  /** Note the cursor values of rows read in full (tables with a cursor field only). */
  #noteRows(rows: Row[]): void {
    const key = this.#spec.cursorJsonField;
    if (!key) return;
    for (const row of rows) {
      const value = parseDateTime(readField(row, key));
      if (value !== null) this.#clock.noteRead(value);
    }
  }

  /**
   * The cursor after a full read: as after a window for a table with a cursor field (products
   * whose filter is rejected); else, for the record only, the capped clock of the read.
   */
  #fullReadCursor(cap: number): string | null {
    return this.#spec.cursorField ? this.#clock.after(cap) : formatUtc(cap);
  }
}

/**
 * A request sent ahead, marked handled: when it fails (a stop aborts it) while the page before
 * it is still being written, that is no unhandled rejection; awaiting it still throws.
 */
function ahead<T>(request: Promise<T>): Promise<T> {
  request.catch(() => {});
  return request;
}
