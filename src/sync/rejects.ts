/**
 * Records that cannot be stored, kept instead of stopping their table.
 *
 * A record cannot be stored when it is not a JSON object (a row of a well-formed list body that
 * does not parse), has no usable `id`, is nested more than 64 levels deep (objects or arrays), or,
 * read on a table's cursor, has a cursor value (`edited`) that is not a date-time. Such a record
 * is left out of its page, and the rest of the page is written. The record itself goes, whole and
 * as the JSON text it came in, into `_act_rejected` (see `src/sink/_rejected.ts`) before the page's
 * checkpoint is saved, so the cursor passes it only once it is kept there; a WARNING names the
 * table, the id and the reason. Every run tries the table's rejected records again (read by id,
 * or met again by the read); one that can be stored now is written to its table and leaves
 * `_act_rejected`, one that Act! no longer has leaves it too.
 *
 * With `exclude_fields` or `hash_fields` for the table, the rules are applied here, before a
 * record is flattened or kept: `_act_rejected` holds the record with them applied, written again
 * as JSON, never the text it came in. A row that is not JSON cannot have them applied: its text
 * is not kept (`raw` says why), only its key, a SHA-256 of the text.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { errorMessage, HttpError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { type OdataQuery, odataString } from "../act/odata.ts";
import { UnparsedRow } from "../act/response_body.ts";
import { rawText } from "../act/split_rows.ts";
import type { FlatPage, RejectedRecord, Sink } from "../sink/sink.ts";
import { parseDateTime } from "./flatten.ts";
import { readField } from "./_cursor_rows.ts";
import { flattenForSink } from "./relations.ts";
import { idOf, type Row } from "./scan.ts";
import type { TableSpec } from "../act/tables.ts";
import { applyFieldRules, type FieldRules, fieldWarnings } from "./fields.ts";

/** What `raw` holds for a row that is not JSON, of a table with field rules. */
export const NOT_KEPT = "(not kept: 'exclude_fields' and 'hash_fields' cannot be applied to text " +
  "that is not JSON)";

/** Most WARNING lines a table logs for its rejected records in one run (the rest are counted). */
const MAX_WARNINGS = 50;

// `JSON.rawJSON` (V8 and JavaScriptCore), not yet in TypeScript's lib.
const rawJson = (JSON as unknown as { rawJSON(text: string): object }).rawJSON;

/** Whether `row` stands for a row of a list body that is not a JSON object. */
export function isUnparsed(row: unknown): row is UnparsedRow {
  return row instanceof UnparsedRow;
}

/** The records of one table that cannot be stored, in one run. */
export class Rejects {
  #spec: TableSpec;
  #sink: Sink;
  #logger: Logger;
  /** Id → key of the table's records in `_act_rejected` that have an id. */
  #held: Map<string, string>;
  /** Id → parent id of the held records read per parent. */
  #parents = new Map<string, string>();
  /** Keys of all the table's records in `_act_rejected`. */
  #keys: Set<string>;
  #pending = new Map<string, RejectedRecord>();
  /** Ids of `#held` written since the last flush. */
  #healed = new Set<string>();
  #warned = 0;
  /** Records rejected in this run (each once). */
  #seen = new Set<string>();
  /** The table's `exclude_fields` and `hash_fields`. */
  #fields: FieldRules | undefined;
  /** Records with the rules applied (so that none is hashed twice). */
  #applied = new WeakSet<Row>();
  /** Whether the rules were compared with the table's records (once per run). */
  #fieldsChecked = false;

  private constructor(
    spec: TableSpec,
    sink: Sink,
    logger: Logger,
    keys: Map<string, string>,
    fields?: FieldRules,
  ) {
    this.#spec = spec;
    this.#sink = sink;
    this.#logger = logger;
    this.#held = keys;
    this.#keys = new Set(keys.values());
    this.#fields = fields && fields.exclude.length + fields.hash.length > 0 ? fields : undefined;
  }

  /** The table's rejected records as stored now; `fields`: the table's field rules. */
  static async load(
    spec: TableSpec,
    sink: Sink,
    logger: Logger,
    fields?: FieldRules,
  ): Promise<Rejects> {
    const rejects = new Rejects(spec, sink, logger, new Map(), fields);
    for (const entry of await sink.rejected()) {
      if (entry.table !== spec.name) continue;
      rejects.#keys.add(entry.key);
      if (entry.id !== null) rejects.#held.set(entry.id, entry.key);
      if (entry.id !== null && entry.parent !== null) rejects.#parents.set(entry.id, entry.parent);
    }
    return rejects;
  }

  /** Ids of the table's records in `_act_rejected` (those that have one). */
  get heldIds(): string[] {
    return [...this.#held.keys()];
  }

  /** Whether the record with this id was read and rejected in this run (no need to read it again). */
  rejectedNow(id: string): boolean {
    return this.#seen.has(this.#held.get(id) ?? "");
  }

  /** Whether the record with this id is in `_act_rejected`. */
  holds(id: string): boolean {
    return this.#held.has(id);
  }

  /** The parent of a held record read per parent. */
  parentOf(id: string): string | undefined {
    return this.#parents.get(id);
  }

  /** How many of the table's records are in `_act_rejected` (after the last flush). */
  get count(): number {
    return this.#keys.size;
  }

  /** How many records were rejected in this run. */
  get rejectedThisRun(): number {
    return this.#seen.size;
  }

  /**
   * Whether `row` can be read on the table's cursor: not an {@linkcode UnparsedRow}, with a
   * valid cursor value (when `cursorKey` is given). A row that cannot is kept for the next
   * {@linkcode flush} and false returned.
   */
  screen(row: Row, cursorKey?: string): boolean {
    if (isUnparsed(row)) {
      this.add(row, row.reason);
      return false;
    }
    if (cursorKey !== undefined && parseDateTime(readField(row, cursorKey)) === null) {
      const value = readField(row, cursorKey);
      const shown = value === undefined ? "no value" : `"${String(value).slice(0, 60)}"`;
      this.add(row, `'${cursorKey}' is not a valid date-time: got ${shown}`);
      return false;
    }
    return true;
  }

  /**
   * The rows flattened for the sink, each that cannot be stored left out and kept for the next
   * {@linkcode flush}; `cursorKey`: rows must have a valid cursor value too.
   */
  flatten(rows: readonly Row[], cursorKey?: string): FlatPage {
    const screened = rows.filter((row) => this.screen(row, cursorKey));
    this.#checkFields(screened);
    const kept = screened.map((row) => this.#apply(row));
    const page = flattenForSink(this.#spec, kept, (row, reason) => this.add(row, reason));
    if (this.#held.size > 0) {
      for (const row of page.rows) if (this.#held.has(row.id)) this.#healed.add(row.id);
    }
    return page;
  }

  /** Keep `row` for the next {@linkcode flush}, with the reason it cannot be stored. */
  add(row: Row | UnparsedRow, reason: string): void {
    if (!isUnparsed(row)) row = this.#apply(row);
    // A row that is not JSON keeps its text only when no field rule would have to reach into it.
    const text = isUnparsed(row) ? row.raw : textOf(row);
    const raw = isUnparsed(row) && this.#fields ? NOT_KEPT : text;
    const id = row.id === undefined || row.id === null || row.id === "" ? null : String(row.id);
    const key = id ?? `sha256:${createHash("sha256").update(text).digest("hex")}`;
    // The record's text is kept in `raw`: the reason (logged) does not repeat it.
    if (id === null) reason = "it has no usable 'id'";
    const parentKey = this.#spec.perParent?.parentKey;
    const parentId = isUnparsed(row) ? row.parent : parentKey ? row[parentKey] : undefined;
    const parent = parentId === undefined || parentId === null ? null : String(parentId);
    this.#pending.set(key, { id, parent, key, reason, raw });
    this.#healed.delete(id ?? "");
  }

  /**
   * Once per table and run, on its first records: a WARNING for each rule path that matches no
   * field (`fieldWarnings`).
   */
  #checkFields(rows: readonly Row[]): void {
    if (!this.#fields || this.#fieldsChecked || rows.length === 0) return;
    this.#fieldsChecked = true;
    for (const w of fieldWarnings(rows, this.#fields, this.#spec.name)) this.#logger.warning(w);
  }

  /** `row` with the table's field rules applied, once. */
  #apply(row: Row): Row {
    if (!this.#fields || this.#applied.has(row)) return row;
    const out = applyFieldRules(row, this.#fields);
    this.#applied.add(out);
    return out;
  }

  /** Forget what was kept since the last flush (its page was rolled back, to be read again). */
  discard(): void {
    this.#pending.clear();
    this.#healed.clear();
  }

  /**
   * Store the records kept since the last flush in `_act_rejected` (with a WARNING each), and
   * take the ones written to the table since out of it. Called after a page is written and
   * before its checkpoint.
   */
  async flush(at: string): Promise<void> {
    const table = this.#spec.name;
    if (this.#pending.size > 0) {
      const records = [...this.#pending.values()];
      await this.#sink.reject(table, records, at);
      for (const record of records) {
        this.#keys.add(record.key);
        if (record.id !== null) this.#held.set(record.id, record.key);
        if (record.id !== null && record.parent !== null) {
          this.#parents.set(record.id, record.parent);
        }
        if (this.#seen.has(record.key)) continue;
        this.#seen.add(record.key);
        if (++this.#warned <= MAX_WARNINGS) {
          this.#logger.warning(
            `Table ${table}: a record cannot be stored and is kept in _act_rejected`,
            { id: record.id ?? "(none)", reason: record.reason },
          );
        }
      }
      this.#pending.clear();
    }
    if (this.#healed.size > 0) {
      const ids = [...this.#healed];
      this.#healed.clear();
      await this.#release(ids, "can be stored now and left _act_rejected");
    }
  }

  /** Take records out of `_act_rejected` that Act! no longer has. */
  async gone(ids: readonly string[]): Promise<void> {
    await this.#release(ids, "is no longer in Act! and left _act_rejected");
  }

  /** The end of a run: how many were rejected beyond the warnings logged. */
  finish(): void {
    if (this.#warned > MAX_WARNINGS) {
      this.#logger.warning(
        `Table ${this.#spec.name}: ${this.#warned - MAX_WARNINGS} more records cannot be stored ` +
          `and are kept in _act_rejected`,
      );
    }
  }

  async #release(ids: readonly string[], what: string): Promise<void> {
    const keys = ids.map((id) => this.#held.get(id)).filter((key) => key !== undefined);
    await this.#sink.unreject(this.#spec.name, keys);
    for (const id of ids) {
      const key = this.#held.get(id);
      if (key === undefined) continue;
      this.#held.delete(id);
      this.#parents.delete(id);
      this.#keys.delete(key);
      this.#logger.info(`Table ${this.#spec.name}: record ${JSON.stringify(id)} ${what}`);
    }
  }
}

/**
 * A record's JSON text: as it came when the body was split (always, for list pages that are
 * well-formed arrays), else written again from the parsed record with its numbers exact.
 */
function textOf(row: Row): string {
  const raw = rawText(row);
  if (raw !== undefined) return raw;
  try {
    return JSON.stringify(row, (_key, v) => typeof v === "bigint" ? rawJson(String(v)) : v);
  } catch (error) {
    return `(the record's text cannot be written: ${errorMessage(error)})`;
  }
}

/** What {@linkcode retryRejected} needs of a table's reader. */
export interface RetryReader {
  table: string;
  /** The table is read per parent (line items). */
  perParent: boolean;
  /** The table is a list that may ignore OData, read whole on every run. */
  wholeList: boolean;
  /** Records are read on the table's cursor (they need a valid cursor value). */
  onCursor: boolean;
  /** One counted request. */
  list(query: OdataQuery): Promise<{ rows: Row[] }>;
  /** Write rows (for a table read per parent: the rows of these parents). */
  write(rows: Row[], onCursor?: boolean): Promise<void>;
  logger: Logger;
}

/**
 * Read the table's records in `_act_rejected` again by id (`id eq '…'`), after the table's
 * read, except those its read met again: one that can be stored now is written and leaves
 * `_act_rejected`, one that Act! no longer has leaves it, one that still cannot be stored stays
 * (its `last_seen` moves). A table read per parent reads the rows of those records' parents
 * again (its items that are gone are marked deleted as on every read); lists that may ignore
 * OData are read whole on every run. A server that rejects or ignores the filter ends the retry
 * for this run.
 */
export async function retryRejected(rejects: Rejects, reader: RetryReader): Promise<void> {
  const due = rejects.heldIds.filter((id) => !rejects.rejectedNow(id));
  if (reader.perParent) {
    const parents = due.map((id) => rejects.parentOf(id)).filter((p) => p !== undefined);
    for (const parent of new Set(parents)) {
      try {
        await reader.write([{ id: parent }]);
      } catch (error) {
        if (!(error instanceof HttpError && error.status === 404)) throw error;
        await rejects.gone(rejects.heldIds.filter((id) => rejects.parentOf(id) === parent));
      }
    }
    return;
  }
  if (reader.wholeList) return;
  for (const id of due) {
    let rows: Row[];
    try {
      rows = (await reader.list({ filter: `id eq ${odataString(id)}`, top: 2 })).rows;
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 400)) throw error;
      reader.logger.fine(`Table ${reader.table}: cannot read records by id`);
      return;
    }
    const match = rows.filter((row) => idOf(row) === id);
    if (match.length === 0 && rows.length > 0) {
      reader.logger.fine(`Table ${reader.table}: the server ignores 'id eq'`);
      return;
    }
    if (match.length === 0) await rejects.gone([id]);
    else await reader.write(match, reader.onCursor);
  }
}
