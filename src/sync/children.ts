/**
 * Two reads the engine (`src/sync/engine.ts`) adds for tables that are not plain OData lists:
 *
 * - **Rows per parent** ({@linkcode ChildReader}): opportunity line items have no collection of
 *   their own, only `/api/opportunities/{id}/products`. The engine scans the parent table on
 *   this table's own cursor, exactly like an incremental table (the same lossless window, its
 *   own `position` and cursor in the state) but in pages of at most {@linkcode PARENT_PAGE}
 *   parents, and for each page of new or changed parents reads
 *   every parent's rows, writes them with the parent's id in `parentKey`, and marks deleted the
 *   stored rows of those parents that are no longer sent (a line item removed from its
 *   opportunity). The page's checkpoint is saved only after that, so the cursor never passes a
 *   parent whose rows were not stored: a failed fetch fails the table and the next run reads
 *   that parent again. This relies on a change to a parent's rows bumping the parent's
 *   `edited`; where it does not, `act-sync reconcile opportunity_products` re-reads the rows of
 *   every opportunity (see the README).
 * - **A whole list** ({@linkcode readWholeList}): `/api/users` documents no OData. It is asked
 *   for pages (`$orderby=id`, `$top`, `$skip`) and the answers show which kind of server it is:
 *   a response longer than `$top`, or one that brings no new id, is the whole list.
 *
 * @module
 */
import { HttpError } from "../core/errors.ts";
import { UnparsedRow } from "../act/response_body.ts";
import type { OdataQuery } from "../act/odata.ts";
import type { Sink } from "../sink/sink.ts";
import { MAX_REQUESTS, notAdvancing, type Row } from "./scan.ts";
import { type TableName, TABLES, type TableSpec } from "../act/tables.ts";

/** One page of a list endpoint (the engine's `ListPage`). */
interface Page {
  rows: Row[];
  serverDate: number | null;
}

/**
 * The reader of a table read per parent (null for other tables); `fetch` is one counted request
 * of a parent's rows.
 */
export function childReader(
  spec: TableSpec,
  endpoints: Partial<Record<TableName, string>> | undefined,
  fetch: (path: string) => Promise<Page>,
): ChildReader | null {
  const parent = spec.perParent;
  if (!parent) return null;
  return new ChildReader(
    endpoints?.[spec.name] ?? spec.path,
    endpoints?.[parent.table] ?? TABLES[parent.table].path,
    parent.parentKey,
    async (path) => (await fetch(path)).rows,
  );
}

/**
 * The most parents a page of the parent scan asks for (`$top`), whatever `batch_size` is: each
 * parent costs a request, so a page of 10000 would read for tens of minutes before writing,
 * reporting progress or saving the position. Pages this small write, report and checkpoint
 * every ~100 parents (under a minute at the default `rate_limit_pause`), and a stop or kill
 * loses at most one such page.
 */
export const PARENT_PAGE = 100;

/**
 * Parents whose rows are read at once: one, since concurrent requests race a token that expires
 * after a few requests (seen in the chaos suite: 401 right after renewing).
 */
const CONCURRENCY = 1;

/** The rows of one page of parents, read by {@linkcode ChildReader.read}. */
export interface Children {
  /** Every parent's rows, each with the parent's id in the parent key. */
  rows: Row[];
  /** Parent id → ids of its rows as sent now. */
  byParent: Map<string, Set<string>>;
}

/** Reads the rows of parents (see the module comment). */
export class ChildReader {
  /** The parent table's list path, which the engine scans on this table's cursor. */
  readonly parentPath: string;
  #template: string;
  #parentKey: string;
  #fetch: (path: string) => Promise<Row[]>;

  /**
   * `template` is the per-parent path with `{id}` (e.g. `/api/opportunities/{id}/products`);
   * `fetch` is one counted request.
   */
  constructor(
    template: string,
    parentPath: string,
    parentKey: string,
    fetch: (path: string) => Promise<Row[]>,
  ) {
    this.parentPath = parentPath;
    this.#template = template;
    this.#parentKey = parentKey;
    this.#fetch = fetch;
  }

  /** Read the rows of every parent (a few at once); any failed request fails the whole read. */
  async read(parents: readonly Row[]): Promise<Children> {
    const ids = [...new Set(parents.map((p) => String(p.id ?? "")).filter((id) => id !== ""))];
    const results = new Map<string, Row[]>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next++];
        const path = this.#template.replace("{id}", encodeURIComponent(id));
        const rows = await this.#fetch(path);
        // The parsed rows are this read's own: the parent key is set in place, so the text
        // they came in stays theirs (for a row that cannot be stored, see `rejects.ts`).
        for (const row of rows) {
          if (row instanceof UnparsedRow) row.parent = id;
          else row[this.#parentKey] = id;
        }
        results.set(id, rows);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
    const rows: Row[] = [];
    const byParent = new Map<string, Set<string>>();
    for (const id of ids) {
      const own = results.get(id)!;
      rows.push(...own);
      byParent.set(id, new Set(own.map((row) => String(row.id ?? ""))));
    }
    return { rows, byParent };
  }

  /**
   * Mark deleted the stored rows of these parents that were not sent now; returns how many.
   */
  async markRemoved(sink: Sink, table: string, children: Children, at: string): Promise<number> {
    let removed = 0;
    for (const [parent, sent] of children.byParent) {
      const stored = await sink.ids(table, { column: this.#parentKey, value: parent });
      const gone = stored.filter((id) => !sent.has(id));
      if (gone.length > 0) removed += await sink.markDeleted(table, gone, at);
    }
    return removed;
  }
}

/**
 * Read a list that may ignore every OData option (see the module comment); `onRows` gets the
 * rows not seen before in this read. Returns the first response's `Date` header (ms or null).
 */
export async function readWholeList(
  list: (query: OdataQuery) => Promise<Page>,
  path: string,
  top: number,
  onRows: (rows: Row[]) => Promise<void>,
): Promise<number | null> {
  let date: number | null | undefined;
  const seen = new Set<string>();
  let ordered = true;
  let skip = 0;
  for (let guard = 0; guard < MAX_REQUESTS; guard++) {
    let rows: Row[];
    try {
      const page = await list({
        ...(ordered ? { orderby: "id asc" } : {}),
        top,
        ...(skip ? { skip } : {}),
      });
      if (date === undefined) date = page.serverDate;
      rows = page.rows;
    } catch (error) {
      if (ordered && skip === 0 && error instanceof HttpError && error.status === 400) {
        ordered = false; // the server rejects $orderby=id
        continue;
      }
      throw error;
    }
    const fresh = rows.filter((row) => !seen.has(String(row.id ?? "")));
    for (const row of fresh) seen.add(String(row.id ?? ""));
    await onRows(fresh);
    // More rows than asked for: the server ignores $top, so this was the whole list.
    if (fresh.length === 0 || rows.length > top) {
      if (fresh.length === 0 && rows.length === top && skip > 0) {
        // A full page again: the server ignores $skip. If it ignores $top too, the first page
        // was the whole list (exactly `top` rows); if it honours $top, rows may be missing.
        // One request for fewer (or, at `top` 1, more) rows tells which.
        const probeTop = top > 1 ? top - 1 : 2;
        const probe = await list({ ...(ordered ? { orderby: "id asc" } : {}), top: probeTop });
        const ignoresTop = top > 1 ? probe.rows.length > probeTop : probe.rows.length < probeTop;
        if (!ignoresTop) {
          throw notAdvancing("Paging", `${path} returned the same page for $skip=${skip}`);
        }
      }
      return date ?? null;
    }
    skip += rows.length;
  }
  throw notAdvancing("Paging", `more than ${MAX_REQUESTS} requests`);
}
