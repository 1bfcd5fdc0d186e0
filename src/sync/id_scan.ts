/**
 * The complete id list of one table (the id scan of `act-sync reconcile`, `src/sync/reconcile.ts`).
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
 * The ids are held in an {@linkcode IdSet} (GUIDs as 16 bytes each), so that a million of them
 * take tens of megabytes, not hundreds.
 *
 * @module
 */
import { HttpError } from "../core/errors.ts";
import type { PageSource } from "./engine.ts";
import type { OdataQuery } from "../act/odata.ts";
import {
  asText,
  Completeness,
  isHexId,
  notAdvancing,
  prefixDepth,
  type Row,
  type ScanBase,
  scanByOffset,
  scanByPrefix,
} from "./scan.ts";
import { type IdList, IdSet } from "./id_set.ts";
import { CountedSource, firstAnswering } from "./source.ts";

/** The complete id list of one table, from {@linkcode scanIds}. */
export interface IdScan {
  /** Every id Act! holds. */
  ids: IdList;
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
  /** Awaited once before the first request for full rows (what `keep` needs, loaded then). */
  beforeFullRows?: () => Promise<void>;
  /** Do not ask for `$select=id` (full rows). @default {false} */
  fullRows?: boolean;
  /** Aborts the scan. */
  signal?: AbortSignal;
  /** Called after every response with the number of distinct ids found so far (progress lines). */
  onPage?: (found: number) => void;
}

const MAX_OFFSET_SCANS = 5;
/** Who scans, in "… is not advancing" messages. */
export const WHO = "Id scan";

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
  #source: CountedSource;
  #path: string;
  #options: ScanOptions;
  #top: number;
  #select: boolean;
  #filter = true;
  #completeness: Completeness;
  #rows = new Map<string, Record<string, unknown>>();

  constructor(source: PageSource, path: string, options: ScanOptions) {
    this.#source = new CountedSource(source, { signal: options.signal, who: WHO });
    this.#path = path;
    this.#options = options;
    this.#select = !options.fullRows;
    this.#top = this.#select ? options.batchSize * ID_PAGE_FACTOR : options.batchSize;
    this.#completeness = new Completeness(this.#top);
  }

  async scan(): Promise<IdScan> {
    const probe = await this.#first();
    let ids: IdList;
    if (probe.length === 0) {
      ids = new IdSet(); // an empty answer to an unfiltered request: the table is empty
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
      requests: this.#source.requests,
    };
  }

  async #list(query: OdataQuery, path = this.#path): Promise<Row[]> {
    const asked = this.#select ? { ...query, select: "id" } : query;
    const page = await this.#source.list(path, asked, { whole: this.#select });
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
    const first = await firstAnswering(paths, (path) => this.#firstAt(path));
    this.#path = first.path;
    this.#completeness.see(first.answer.length);
    return first.answer;
  }

  async #firstAt(path: string): Promise<Row[]> {
    if (!this.#select) {
      await this.#options.beforeFullRows?.();
      return await this.#list({ top: this.#top }, path);
    }
    try {
      return await this.#list({ top: this.#top }, path);
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 400)) throw error;
      this.#select = false; // the server rejects $select: read full rows, full pages
      this.#top = this.#options.batchSize;
      this.#completeness = new Completeness(this.#top);
      await this.#options.beforeFullRows?.();
      return await this.#list({ top: this.#top }, path);
    }
  }

  /** The id scan by prefix ({@linkcode scanByPrefix}), first parts `depth` characters long. */
  async #byPrefix(depth: number): Promise<IdSet> {
    const ids = new IdSet(this.#options.expectedRows);
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
  async #byOffsetVerified(): Promise<IdSet> {
    let previous = await this.#byOffset();
    for (let scan = 1; scan < MAX_OFFSET_SCANS; scan++) {
      const next = await this.#byOffset();
      if (next.size === previous.size && every(next, (id) => previous.has(id))) return next;
      previous = next;
    }
    throw notAdvancing(
      WHO,
      `${MAX_OFFSET_SCANS} offset scans of ${this.#path} disagree (rows keep changing)`,
    );
  }

  /** One offset scan until an empty page ({@linkcode scanByOffset}). */
  async #byOffset(): Promise<IdSet> {
    let ids = new IdSet(this.#options.expectedRows);
    await scanByOffset({
      ...this.#scan(),
      ordered: true,
      onRows: (rows) => {
        for (const row of rows) ids.add(String(row.id));
        this.#options.onPage?.(ids.size);
      },
      onRestart: () => ids = new IdSet(this.#options.expectedRows),
    });
    return ids;
  }
}

/** Whether `test` holds for every id of `ids`. */
function every(ids: Iterable<string>, test: (id: string) => boolean): boolean {
  for (const id of ids) if (!test(id)) return false;
  return true;
}
