/**
 * The scans that lose no row, written once for the sync engine (`src/sync/engine.ts`: tie groups,
 * tables read in full) and reconcile (`src/sync/reconcile.ts`: the complete id list).
 *
 * ## Why they lose no row
 *
 * The Act! Web API pages by offset only (`$top` + `$skip`), orders rows with equal sort keys
 * differently on every request, may cap responses below `$top` (down to one row), and answers
 * while rows are edited, inserted and deleted. Offset paging over a live table loses rows (a
 * delete shifts every later row up one and hides one at a page boundary), so these scans read by
 * id wherever the server lets them:
 *
 * 1. **Completeness** ({@linkcode Completeness}). A response held every match when it is empty,
 *    or smaller than the largest response this endpoint has returned in this run: no page cap
 *    cut it. A short response alone proves nothing. When a short response of `n` rows is
 *    ambiguous (nothing bigger seen yet), one probe for the table's first `n + 1` rows settles
 *    it: if they come back, the server does not cap at `n` (at most {@linkcode MAX_PROBES} per
 *    table and run). With `batch_size` 1 or a cap of 1 nothing but an empty response is ever
 *    complete, which costs requests, never rows.
 * 2. **By id prefix** ({@linkcode scanByPrefix}), for GUID ids. Each part
 *    (`startswith(id,'3')`) is read by one request; while its response may have been capped, the
 *    part is asked again without the ids read (`and id ne '…'`) as long as at most
 *    {@linkcode MAX_EXCLUDED_IDS} are excluded, so one-row responses cost a request per id;
 *    beyond that it is split into its longer prefixes (`'30'`…`'3f'`, see
 *    {@linkcode childPrefixes}), each finished the same way (a server that answers 400 to `ne`
 *    gets the split alone). The unstable order inside a part
 *    cannot hide a row: a part ends only at a complete response. A returned row outside its part
 *    (or an excluded id) means the server ignored `$filter`, which stops the scan.
 * 3. **By offset** ({@linkcode scanByOffset}), where ids are not GUIDs or `$filter` is rejected:
 *    pages ordered by id, each overlapping the previous one by a row; when that row is not where
 *    it was, rows before it were deleted or inserted meanwhile and the scan starts again (at
 *    most {@linkcode MAX_RESTARTS} times). While responses may hold one row there is no overlap
 *    row (it would fill the page and end the scan early): plain offsets until an empty page.
 *    A server that rejects `$orderby=id` is read by plain offset pages; one that returns the
 *    same page for two offsets ignores `$skip`, which stops the scan.
 *
 * 4. **A whole list** ({@linkcode readWholeList}), for lists that may ignore every OData option
 *    (`/api/users`, which documents none) and the lists of one parent's rows
 *    (`/api/opportunities/{id}/products`). These lists are small and have no filterable
 *    field, so they are read by offset pages ordered by id (plain pages when `$orderby=id` is
 *    rejected), with stop rules of their own. The read is whole when a response is empty; or
 *    when it is smaller than `$top` and than the largest response of this endpoint in this run
 *    (point 1; the lists of all parents share one tracker, as they share the server's cap); or
 *    when a later offset brings no id not read before and the server is known to ignore `$top`
 *    as well (the response was longer than `$top`, or one probe for fewer rows got them all):
 *    such a server answers every request with its whole list, since nothing could ask it for
 *    the rest (once it showed this, each later list of the endpoint is whole at its first
 *    response). A server that honours `$top` but answers a later offset with the same rows
 *    ignores `$skip` while it may cap: the read fails ("is not advancing") rather than take a
 *    possibly capped answer for the whole list. A short response alone never ends the read.
 *    The caller may mark deleted what a whole read did not return; a read that fails marks
 *    nothing. A row deleted between two offset pages of one list shifts the later rows up
 *    one and may hide a row; for a parent's rows that change bumps the parent, so the next run
 *    reads the parent again; users are read in full every run.
 *
 * What the callers add: the engine writes the rows and bounds a tie group by its cursor range;
 * reconcile collects ids with `$select=id`, and repeats offset scans until two agree.
 *
 * @module
 */
import { HttpError } from "../core/errors.ts";
import { type OdataQuery, odataString } from "../act/odata.ts";
import { UnparsedRow } from "../act/response_body.ts";

/** A record as the API returns it. */
export type Row = Record<string, unknown>;

/** Most requests one table may take in a run before the read counts as not advancing. */
export const MAX_REQUESTS = 10_000_000;
/** Longest id prefix a scan splits to (a GUID plus an `MMddyyyy` suffix). */
export const MAX_PREFIX_LENGTH = 48;
/** Most probes ({@linkcode Completeness.completeAfterProbe}) per table and run. */
export const MAX_PROBES = 3;
/**
 * Most ids a request excludes with `and id ne '…'` (about 60 URL characters each, so the query
 * stays well under IIS's default 2048-character limit); beyond that a scan splits by id prefix.
 */
export const MAX_EXCLUDED_IDS = 20;
/** Most times an offset scan starts again (rows shifted, or `$orderby` rejected). */
export const MAX_RESTARTS = 5;

/** One counted request of a scan: the rows of the response. */
export type ListRows = (query: OdataQuery) => Promise<Row[]>;

/**
 * Tracks the largest response an endpoint has returned in a run and says whether a response was
 * complete (see the module comment, point 1).
 */
export class Completeness {
  #top: number;
  #probe: ((top: number) => Promise<number>) | null;
  #largest = 0;
  #probes = 0;

  /**
   * `top` is the `$top` of the scan's requests; `probe` asks for the table's first `top` rows
   * and returns how many came (null: never probe).
   */
  constructor(top: number, probe: ((top: number) => Promise<number>) | null = null) {
    this.#top = top;
    this.#probe = probe;
  }

  /** The largest response seen so far, in rows. */
  get largest(): number {
    return this.#largest;
  }

  /** Note a response of `size` rows without judging it. */
  see(size: number): void {
    this.#largest = Math.max(this.#largest, size);
  }

  /**
   * Whether a response of `size` rows (the one just received) surely held every match: it is
   * empty, or smaller than the largest response seen before. Then the size joins the largest.
   */
  complete(size: number): boolean {
    const complete = size === 0 || size < this.#largest;
    this.see(size);
    return complete;
  }

  /**
   * Like {@linkcode complete}, but when the answer is "maybe capped" and the response was
   * smaller than `$top`, ask whether the server caps at that size: one probe for `size + 1`
   * rows. When that many come back, the cap is above `size`, so the response was complete.
   */
  async completeAfterProbe(size: number): Promise<boolean> {
    if (this.complete(size)) return true;
    if (this.#probe === null || this.#probes >= MAX_PROBES || size >= this.#top) return false;
    this.#probes++;
    this.see(await this.#probe(size + 1));
    return size < this.#largest;
  }
}

/** What {@linkcode scanByPrefix} and {@linkcode scanByOffset} need. */
export interface ScanBase {
  /** One counted request. */
  list: ListRows;
  /** The endpoint, for messages. */
  path: string;
  /** `$top` of every request. */
  top: number;
  /** The endpoint's tracker, shared with the caller's other requests. */
  completeness: Completeness;
  /** Who scans, for "… is not advancing" messages, e.g. `Paging` or `Id scan`. */
  who: string;
  /** The rows of each response (checked; for an offset scan without the overlap row). */
  onRows(rows: Row[]): void | Promise<void>;
}

/** Options of {@linkcode scanByPrefix}. */
export interface PrefixScan extends ScanBase {
  /** A filter every request carries (e.g. a tie group's cursor range). @default {none} */
  base?: string;
  /**
   * Ids of rows already read that match `base`: the whole of `base` is then the first part,
   * asked without them. @default {none: the 16 one-character prefixes are the first parts}
   */
  known?: readonly string[];
  /** Whether a returned row matches `base`; one that does not stops the scan. @default {all} */
  matches?: (row: Row) => boolean;
  /**
   * Length of the first parts' prefixes when there is no `known` (see {@linkcode prefixDepth}):
   * 2 starts with the 256 parts `'00'`…`'ff'`. @default {1}
   */
  depth?: number;
}

/** Deepest first prefix {@linkcode prefixDepth} picks (65,536 parts). */
export const MAX_PREFIX_DEPTH = 4;

/**
 * The prefix length at which a table of about `rows` GUID ids splits into parts that each fit
 * one response of `largest` rows with room to spare (at most 3/4 full), so a scan needs no split
 * it discovers request by request; never more parts than rows, at least 1, at most
 * {@linkcode MAX_PREFIX_DEPTH}. An estimate only: a part that still comes back full is split.
 */
export function prefixDepth(rows: number, largest: number): number {
  let depth = 1;
  while (
    depth < MAX_PREFIX_DEPTH && rows / 16 ** depth > 0.75 * Math.max(1, largest) &&
    16 ** (depth + 1) <= rows
  ) {
    depth++;
  }
  return depth;
}

/** Every prefix of `length` characters that GUID ids can have, in order (see {@linkcode childPrefixes}). */
export function prefixesOfLength(length: number): string[] {
  let prefixes = [""];
  while (prefixes[0].length < length) prefixes = prefixes.flatMap(childPrefixes);
  return prefixes;
}

/** Read every row matching `base` by id prefix (see the module comment, point 2). */
export async function scanByPrefix(scan: PrefixScan): Promise<void> {
  const stack: { prefix: string; ids: string[] }[] = scan.known
    ? [{ prefix: "", ids: [...scan.known] }]
    : prefixesOfLength(scan.depth ?? 1).reverse().map((prefix) => ({ prefix, ids: [] }));
  let exclude = true; // false once the server rejects `ne`: parts are then only split
  while (stack.length > 0) {
    const { prefix, ids: known } = stack.pop()!;
    const ids = exclude ? known : [];
    const excluded = new Set(ids.map((id) => id.toLowerCase()));
    const clauses = [
      ...(scan.base ? [scan.base] : []),
      ...(prefix ? [`startswith(id,'${prefix}')`] : []),
      ...ids.map((id) => `id ne ${odataString(id)}`),
    ];
    let rows: Row[];
    try {
      rows = await scan.list({
        ...(clauses.length ? { filter: clauses.join(" and ") } : {}),
        top: scan.top,
      });
    } catch (error) {
      if (!(ids.length > 0 && error instanceof HttpError && error.status === 400)) throw error;
      exclude = false; // the server rejects `ne`: ask this part again, whole
      stack.push({ prefix, ids: known });
      continue;
    }
    for (const row of rows) {
      if (row instanceof UnparsedRow && row.id === undefined) continue; // its id is unknown
      const id = idOf(row).toLowerCase();
      if (!id.startsWith(prefix) || excluded.has(id) || (scan.matches && !scan.matches(row))) {
        throw filterIgnored(
          scan.path,
          `asked for ids starting '${prefix}'` +
            `${ids.length ? ` except ${ids.length} already read` : ""}, got ${asText(row.id)}`,
        );
      }
    }
    await scan.onRows(rows);
    if (rows.length === 0 || await scan.completeness.completeAfterProbe(rows.length)) continue;
    const more = [...new Set([...ids, ...rows.map(idOf)])];
    if (exclude && more.length <= MAX_EXCLUDED_IDS) {
      stack.push({ prefix, ids: more });
      continue;
    }
    if (prefix.length >= MAX_PREFIX_LENGTH) {
      throw notAdvancing(
        scan.who,
        `more rows than one response share the id prefix '${prefix}'`,
      );
    }
    for (const child of childPrefixes(prefix).reverse()) {
      const under = more.filter((id) => id.toLowerCase().startsWith(child));
      // Any subset of the ids read may be excluded: the others are merely read again.
      stack.push({ prefix: child, ids: under.slice(0, MAX_EXCLUDED_IDS) });
    }
  }
}

/** Options of {@linkcode scanByOffset}. */
export interface OffsetScan extends ScanBase {
  /**
   * Order by id (`$orderby=id asc`, with the overlap row). When the first ordered request
   * answers 400, the scan starts again without order.
   */
  ordered: boolean;
  /** The first page, read (with the same order) and handed on already: the scan goes on after it. */
  first?: Row[];
  /** Called when the scan starts again from offset 0: rows handed on so far may be incomplete. */
  onRestart?(reason: "shifted" | "unordered"): void;
}

/** Read every row by offset pages until an empty one (see the module comment, point 3). */
export async function scanByOffset(scan: OffsetScan): Promise<void> {
  let ordered = scan.ordered;
  let orderedRead = scan.first !== undefined && ordered;
  let skip = 0;
  let last: string | null = null;
  let previous: string | null = null; // the ids of the previous page
  if (scan.first) {
    if (scan.first.length === 0) return;
    skip = scan.first.length;
    last = idOf(scan.first[scan.first.length - 1]);
    previous = scan.first.map(idOf).join(",");
  }
  let restarts = 0;
  const restart = (reason: "shifted" | "unordered") => {
    if (++restarts > MAX_RESTARTS) {
      throw notAdvancing(scan.who, `rows of ${scan.path} keep shifting`);
    }
    scan.onRestart?.(reason);
    skip = 0;
    last = null;
    previous = null;
  };
  for (let guard = 0; guard < MAX_REQUESTS; guard++) {
    const overlap = ordered && last !== null && scan.completeness.largest >= 2 ? 1 : 0;
    let rows: Row[];
    try {
      rows = await scan.list({
        ...(ordered ? { orderby: "id asc" } : {}),
        top: scan.top,
        skip: skip - overlap,
      });
    } catch (error) {
      if (!(ordered && !orderedRead && error instanceof HttpError && error.status === 400)) {
        throw error;
      }
      ordered = false; // the server rejects $orderby=id
      restart("unordered");
      continue;
    }
    if (ordered) orderedRead = true;
    if (overlap && (rows.length === 0 || idOf(rows[0]) !== last)) {
      restart("shifted"); // rows before the overlap row were deleted or inserted meanwhile
      continue;
    }
    const ids = rows.map(idOf).join(",");
    if (!ordered && rows.length > 0 && ids === previous) {
      throw notAdvancing(
        scan.who,
        `${scan.path} returned the same page for $skip=${skip} (does the server ignore $skip?)`,
      );
    }
    const fresh = rows.slice(overlap);
    if (fresh.length === 0) return;
    await scan.onRows(fresh);
    skip += fresh.length;
    last = idOf(rows[rows.length - 1]);
    previous = ids;
  }
  throw notAdvancing(scan.who, `more than ${MAX_REQUESTS} requests`);
}

/** Options of {@linkcode readWholeList}. */
export interface WholeListScan extends ScanBase {
  /**
   * What this run knows of the endpoint, shared by every list of it (the rows of every parent):
   * `ignoresPaging` once a server showed that it ignores `$top` and `$skip` (then every first
   * response is the whole list).
   */
  endpoint: { ignoresPaging: boolean };
}

/**
 * Read a list that may ignore every OData option, whole (see the module comment, point 4);
 * `onRows` gets the rows not seen before in this read. Throws when the list cannot be proven
 * whole.
 */
export async function readWholeList(scan: WholeListScan): Promise<void> {
  const seen = new Set<string>();
  let ordered = true;
  let skip = 0;
  const query = (top: number, skip: number): OdataQuery => ({
    ...(ordered ? { orderby: "id asc" } : {}),
    top,
    ...(skip ? { skip } : {}),
  });
  for (let guard = 0; guard < MAX_REQUESTS; guard++) {
    let rows: Row[];
    try {
      rows = await scan.list(query(scan.top, skip));
    } catch (error) {
      if (ordered && skip === 0 && error instanceof HttpError && error.status === 400) {
        ordered = false; // the server rejects $orderby=id
        continue;
      }
      throw error;
    }
    const fresh = rows.filter((row) => !seen.has(idOf(row)));
    for (const row of fresh) seen.add(idOf(row));
    await scan.onRows(fresh);
    if (rows.length === 0) return;
    if (fresh.length === 0) {
      // The same rows again for a later offset: the server ignores $skip. It sent the whole
      // list if it ignores $top too; one request for fewer rows than it sent tells.
      if (!scan.endpoint.ignoresPaging && rows.length <= scan.top) {
        const probe = await scan.list(query(rows.length - 1, 0));
        scan.endpoint.ignoresPaging = probe.length >= rows.length;
      } else scan.endpoint.ignoresPaging = true;
      if (scan.endpoint.ignoresPaging) return;
      throw notAdvancing(
        scan.who,
        `${scan.path} returned the same rows for $skip=${skip} and may cap its responses`,
      );
    }
    if (skip === 0 && scan.endpoint.ignoresPaging) return;
    const uncapped = scan.completeness.complete(rows.length);
    if (uncapped && rows.length < scan.top) return;
    skip += rows.length;
  }
  throw notAdvancing(scan.who, `more than ${MAX_REQUESTS} requests`);
}

const HEX = [..."0123456789abcdef"];
const DIGITS = [..."0123456789"];

/** The prefixes one character longer than `prefix` that GUID ids (+ MMddyyyy) can have. */
export function childPrefixes(prefix: string): string[] {
  const i = prefix.length;
  if (i === 8 || i === 13 || i === 18 || i === 23) return [prefix + "-"];
  const alphabet = i < 36 ? HEX : DIGITS;
  return alphabet.map((c) => prefix + c);
}

/** Whether an id looks like a GUID (read by prefix). */
export function isHexId(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(id);
}

/** `<who> is not advancing: <detail>`, the error of a scan that cannot finish. */
export function notAdvancing(who: string, detail: string): RangeError {
  return new RangeError(`${who} is not advancing: ${detail}`);
}

/** `The server ignored $filter on <path>: <detail>`. */
export function filterIgnored(path: string, detail: string): RangeError {
  return new RangeError(`The server ignored $filter on ${path}: ${detail}`);
}

/**
 * A value (a row, an id) as JSON for a message, at most `max` characters; exact big integers
 * (BigInt) are written as their digits instead of making `JSON.stringify` throw.
 */
export function asText(value: unknown, max = 200): string {
  const text = JSON.stringify(value, (_key, v) => typeof v === "bigint" ? String(v) : v);
  return (text ?? String(value)).slice(0, max);
}

function idOf(row: Row): string {
  return String(row.id ?? "");
}
