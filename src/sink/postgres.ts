/**
 * The PostgreSQL destination, through the pure-JS `postgres` driver (Deno, Bun and their
 * compiled binaries). One transaction per page; rows go in as one JSON parameter per chunk and
 * are upserted with a single `INSERT … SELECT … FROM json_to_recordset(…) ON CONFLICT (id)`.
 *
 * @module
 */
import postgres from "postgres";
import type { Logger } from "../core/log.ts";
import {
  columnTypeOf,
  createTableSql,
  describePgError,
  parsePgUrl,
  PG_TYPES,
  type PgTarget,
  RESERVED,
  upsertSql,
  widenClause,
} from "./_pg_sql.ts";
import { pgCompareSql } from "./_changes.ts";
import { cursorValues } from "./_history.ts";
import { PgHistory } from "./_pg_history.ts";
import { type ColumnEntry, ColumnMap, fieldColumn } from "./_columns.ts";
import { pgColumnEntries, PgShapes, recordPgColumns } from "./_pg_shape.ts";
import { quoteIdent } from "./_sql.ts";
import { dropViewSql, grantSchemaSql, grantSelectSql, refMigrations, textRefs } from "./_views.ts";
import { createLabeledViewSql, labeledName, sqlText, viewTag } from "./_labels.ts";
import {
  REJECTED_TABLE,
  rejectedEntry,
  rejectedParams,
  type RejectedSql,
  rejectedSql,
  storable,
} from "./_rejected.ts";
import {
  type ColumnType,
  type FlatPage,
  type FlatValue,
  HASHED,
  noChanges,
  pagesOf,
  PageSourceError,
  type RejectedEntry,
  type RejectedRecord,
  scrubColumns,
  type ScrubPaths,
  type ScrubResult,
  type Sink,
  type TableShape,
  widenType,
  type WriteResult,
} from "./sink.ts";

/** Options for {@linkcode openPostgresSink}. */
export interface PostgresSinkOptions {
  /** Where schema changes are logged (at FINE); the password is registered as a secret. */
  logger?: Logger;
  /** Schema for the tables; overrides the URL's `schema` parameter. @default {"public"} */
  schema?: string;
  /** Seconds to wait for a connection before giving up. @default {10} */
  connectTimeoutSeconds?: number;
  /** Rows per upsert statement within a page. @default {2000} */
  chunkRows?: number;
  /** Tables that keep every version of their rows in `<table>_history`. @default {[]} */
  history?: readonly string[];
  /** A role granted SELECT on every table and view the sink creates (`report_role`). */
  reportRole?: string;
}

type Sql = postgres.Sql;
type TxSql = postgres.TransactionSql;

interface TablePlan {
  /** Data columns (not id or metadata) as named in PostgreSQL, in table order, with types. */
  columns: Map<string, ColumnType>;
  /** Source path → column (see `_columns.ts`). */
  map: ColumnMap;
  /** Whether `_act_columns` exists. */
  mapped: boolean;
  /** The upsert for the current columns (null after a change). */
  upsert: string | null;
  /** `double precision` columns still to store as `numeric`. */
  floats?: string[];
}

/**
 * Open a PostgreSQL database as a {@linkcode Sink}: `postgres://user:password@host:5432/db`
 * (or `postgresql://`), optional `?schema=NAME` (created if missing; default `public`); other
 * query parameters such as `sslmode` go to the driver. Connects once to fail early with a
 * message naming the URL without its password.
 */
export async function openPostgresSink(
  url: string,
  options: PostgresSinkOptions = {},
): Promise<Sink> {
  const target = parsePgUrl(url, options.schema);
  options.logger?.addSecret(target.password);
  const timeoutSeconds = options.connectTimeoutSeconds ?? 10;
  const sql = postgres(target.connectUrl, {
    max: 1,
    prepare: false,
    fetch_types: false,
    idle_timeout: 60,
    connect_timeout: timeoutSeconds,
    onnotice: (notice) => options.logger?.fine(`PostgreSQL notice: ${notice.message}`),
    connection: { application_name: "act-sync", TimeZone: "UTC" },
  });
  try {
    // The driver reconnects without end when a server accepts and then drops the connection
    // (not PostgreSQL, a proxy with no backend): bound the first contact ourselves.
    const found = await withDeadline(
      sql.unsafe("SELECT 1 FROM pg_namespace WHERE nspname = $1", [target.schema]),
      (timeoutSeconds + 1) * 1000,
    );
    if (found.length === 0) {
      await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
      options.logger?.info(`Created schema "${target.schema}" in ${target.safeUrl}`);
    }
    if (options.reportRole !== undefined) {
      for (const statement of grantSchemaSql(target.schema, options.reportRole)) {
        await sql.unsafe(statement);
      }
    }
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw new Error(describePgError(error, "prepare schema in", target), { cause: error });
  }
  return new PostgresSink(sql, target, options);
}

class PostgresSink implements Sink {
  readonly description: string;
  #sql: Sql;
  #target: PgTarget;
  #logger: Logger | undefined;
  #chunkRows: number;
  #plans = new Map<string, TablePlan>();
  #compares = new Map<string, string>();
  #shapes: PgShapes;
  #history: PgHistory;
  /** The role granted SELECT on every table and view created here (`report_role`). */
  #reportRole: string | undefined;

  constructor(sql: Sql, target: PgTarget, options: PostgresSinkOptions) {
    this.#sql = sql;
    this.#reportRole = options.reportRole;
    this.#shapes = new PgShapes(target.schema, options.reportRole);
    this.#history = new PgHistory(target.schema, options.history ?? [], options.reportRole);
    this.#target = target;
    this.#logger = options.logger;
    this.#chunkRows = Math.max(1, options.chunkRows ?? 2000);
    this.description = target.safeUrl;
  }

  async write(
    table: string,
    pageOrChunks: FlatPage | Iterable<FlatPage>,
    syncedAt: string,
  ): Promise<WriteResult> {
    const result: WriteResult = {
      written: 0,
      changes: noChanges(),
      newColumns: [],
      widenedColumns: [],
    };
    if (
      !(Symbol.iterator in pageOrChunks) && pageOrChunks.rows.length === 0 &&
      pageOrChunks.types.size === 0 && this.#plans.has(table) && !pageOrChunks.shape
    ) {
      return result;
    }
    const warnings: string[] = [];
    let offered = 0; // rows handed to this write so far, for the message
    try {
      await this.#sql.begin(async (tx) => {
        for (const chunk of pagesOf(pageOrChunks)) {
          offered += chunk.rows.length;
          await this.#writePage(tx, table, chunk, syncedAt, result, warnings);
        }
      });
    } catch (error) {
      this.#plans.delete(table); // the schema change may have been rolled back
      this.#shapes.forget();
      this.#history.forget();
      if (error instanceof PageSourceError) throw error.cause;
      throw new Error(
        describePgError(error, `write ${offered} rows to table "${table}" in`, this.#target),
        { cause: error },
      );
    }
    // A page's repeated ids are written once (the last wins): the others count as unchanged.
    result.changes.unchanged = result.written - result.changes.inserted - result.changes.updated;
    for (const warning of warnings) this.#logger?.warning(warning);
    for (const column of result.newColumns) {
      this.#logger?.fine(`Added column "${column}" to table "${table}"`);
    }
    for (const column of result.widenedColumns) {
      this.#logger?.fine(`Widened column "${column}" of table "${table}"`);
    }
    return result;
  }

  /** One page (or chunk) inside `write`'s transaction, counted into `result`. */
  async #writePage(
    tx: TxSql,
    table: string,
    page: FlatPage,
    syncedAt: string,
    result: WriteResult,
    warnings: string[],
  ): Promise<void> {
    textRefs(page);
    const before = result.newColumns.length + result.widenedColumns.length;
    const plan = await this.#evolve(tx, table, page, result, warnings);
    const columns = [...plan.columns];
    const upsert = plan.upsert ??= upsertSql(this.#table(table), columns);
    const chunks = encodeRows(page, plan, columns, this.#chunkRows);
    const compare = this.#compareSql(upsert, table, columns);
    const history = this.#history.has(table);
    if (history) await this.#history.prepare(tx, table, plan, syncedAt);
    for (const chunk of chunks) {
      // New / updated / unchanged, asked before the upsert changes the answer (_changes.ts).
      const [counted] = await tx.unsafe(compare, [chunk]);
      result.changes.inserted += counted.inserted;
      result.changes.updated += counted.updated;
      const changed = history
        ? await tx.unsafe(this.#history.changedSql(table, columns), [chunk])
        : null;
      await tx.unsafe(upsert, [chunk, syncedAt]);
      if (changed && changed.length > 0) {
        const ids = changed.map((row) => String(row.id));
        await this.#history.record(tx, table, plan, cursorValues(page, ids, stripNul), syncedAt);
      }
    }
    const changed = result.newColumns.length + result.widenedColumns.length > before;
    await this.#shapes.apply(tx, table, plan, page, changed, syncedAt);
    result.written += page.rows.length;
  }

  async count(table: string): Promise<number> {
    const rows = await this.#query(
      table,
      "count rows of",
      `SELECT count(*)::bigint AS n FROM ${this.#table(table)} WHERE NOT "_act_deleted"`,
    );
    return rows ? Number(rows[0].n) : 0;
  }

  async ids(table: string, where?: { field: string; value: string }): Promise<string[]> {
    let column: string | null = null;
    if (where) {
      const plan = await this.#loaded(table);
      if (!plan) return [];
      column = fieldColumn(table, plan.map, where.field);
    }
    const rows = await this.#query(
      table,
      "read ids of",
      `SELECT "id" FROM ${this.#table(table)} WHERE NOT "_act_deleted"` +
        (column !== null ? ` AND ${quoteIdent(column)} = $1` : ""),
      where ? [where.value] : [],
    );
    return rows ? rows.map((row) => row.id as string) : [];
  }

  async idsAfter(table: string, after: string | null, limit: number): Promise<string[]> {
    const rows = await this.#query(
      table,
      "read ids of",
      `SELECT "id" FROM ${this.#table(table)} WHERE NOT "_act_deleted"` +
        (after === null ? "" : ` AND "id" > $2`) + ` ORDER BY "id" LIMIT $1::int`,
      after === null ? [String(limit)] : [String(limit), after],
    );
    return rows ? rows.map((row) => row.id as string) : [];
  }

  async prepare(table: string, shape: TableShape, at: string): Promise<void> {
    const plan = this.#plans.get(table) ??
      await this.#sql.begin((tx) => this.#load(tx, table)).catch((error) => {
        throw new Error(describePgError(error, `read table "${table}" in`, this.#target), {
          cause: error,
        });
      });
    if (!plan) return;
    if (plan.floats?.length) await this.#exact(table, plan);
    await this.write(table, { rows: [], types: refMigrations(plan, shape), shape }, at);
  }

  async markDeleted(table: string, ids: readonly string[], at: string): Promise<number> {
    if (ids.length === 0) return 0;
    if (this.#history.has(table)) return await this.#markDeletedWithHistory(table, ids, at);
    const rows = await this.#query(
      table,
      "mark rows deleted in",
      `UPDATE ${this.#table(table)} SET "_act_deleted" = true, ` +
        `"_act_deleted_at" = $2::timestamptz WHERE NOT "_act_deleted" ` +
        `AND "id" IN (SELECT json_array_elements_text($1::text::json))`,
      [JSON.stringify(ids), at],
    );
    return rows ? rows.count : 0;
  }

  /** Mark rows deleted and write their delete versions, in one transaction. */
  async #markDeletedWithHistory(
    table: string,
    ids: readonly string[],
    at: string,
  ): Promise<number> {
    try {
      return await this.#sql.begin(async (tx) => {
        const plan = this.#plans.get(table) ?? await this.#load(tx, table);
        if (!plan) return 0;
        await this.#history.prepare(tx, table, plan, at);
        const gone = await tx.unsafe(
          `UPDATE ${this.#table(table)} SET "_act_deleted" = true, ` +
            `"_act_deleted_at" = $2::timestamptz WHERE NOT "_act_deleted" ` +
            `AND "id" IN (SELECT json_array_elements_text($1::text::json)) RETURNING "id"`,
          [JSON.stringify(ids), at],
        );
        const versions = new Map(gone.map((row) => [String(row.id), null]));
        await this.#history.record(tx, table, plan, versions, at);
        return gone.length;
      });
    } catch (error) {
      this.#history.forget();
      throw new Error(
        describePgError(error, `mark rows deleted in table "${table}" in`, this.#target),
        {
          cause: error,
        },
      );
    }
  }

  async scrub(
    table: string,
    paths: ScrubPaths,
    hash: (text: string) => string,
  ): Promise<ScrubResult> {
    const out: ScrubResult = {};
    const name = this.#table(table);
    try {
      await this.#sql.begin(async (tx) => {
        const plan = await this.#load(tx, table);
        if (!plan) return;
        const { entries } = await this.#entries(tx, table);
        for (const { column, action } of scrubColumns(entries, paths)) {
          const c = quoteIdent(column);
          if (action === "clear" || plan.columns.get(column) !== "text") {
            const rows = await tx.unsafe(`UPDATE ${name} SET ${c} = NULL WHERE ${c} IS NOT NULL`);
            out[column] = { action: "cleared", rows: rows.count };
            continue;
          }
          const stored = await tx.unsafe(
            `SELECT "id", ${c}::text AS v FROM ${name} WHERE ${c} IS NOT NULL`,
          );
          const changes = stored.filter((row) => !HASHED.test(String(row.v)))
            .map((row) => ({ i: String(row.id), v: hash(String(row.v)) }));
          if (changes.length > 0) {
            await tx.unsafe(
              `UPDATE ${name} AS t SET ${c} = x.v FROM json_to_recordset($1::text::json) ` +
                `AS x(i text, v text) WHERE t."id" = x.i`,
              [JSON.stringify(changes)],
            );
          }
          out[column] = { action: "hashed", rows: changes.length };
        }
      });
    } catch (error) {
      throw new Error(describePgError(error, `scrub table "${table}" in`, this.#target), {
        cause: error,
      });
    }
    this.#plans.delete(table);
    return out;
  }

  async columnsOf(table: string): Promise<Map<string, string>> {
    return (await this.#loaded(table))?.map.paths() ?? new Map();
  }

  async liveRows(table: string, columns: readonly string[]): Promise<Record<string, unknown>[]> {
    const plan = await this.#loaded(table);
    if (!plan) return [];
    // A column no row has filled yet does not exist: its values read as undefined.
    const known = columns.filter((c) => c === "id" || plan.columns.has(c));
    const rows = await this.#query(
      table,
      "read rows of",
      `SELECT ${["id", ...known].map(quoteIdent).join(", ")} FROM ${this.#table(table)} ` +
        `WHERE NOT "_act_deleted"`,
    );
    return rows ? rows.map((row) => ({ ...row })) : [];
  }

  async labelView(table: string, labels: ReadonlyMap<string, string>): Promise<boolean> {
    const plan = await this.#loaded(table);
    if (!plan) return false;
    const schema = this.#target.schema;
    const sql = createLabeledViewSql("postgres", table, plan.columns, labels, schema);
    const tag = viewTag(sql);
    const view = `${quoteIdent(schema)}.${quoteIdent(labeledName(table))}`;
    try {
      const [now] = await this.#sql.unsafe(
        `SELECT obj_description(to_regclass($1), 'pg_class') AS note`,
        [view],
      );
      if (typeof now?.note === "string" && now.note.endsWith(`(${tag})`)) return false;
      await this.#sql.begin(async (tx) => {
        await tx.unsafe(`DROP VIEW IF EXISTS ${view}`);
        await tx.unsafe(sql);
        if (this.#reportRole !== undefined) {
          await tx.unsafe(grantSelectSql(schema, [labeledName(table)], this.#reportRole));
        }
        const note = `Rows of "${table}" not marked deleted, columns named by their Act! labels`;
        await tx.unsafe(`COMMENT ON VIEW ${view} IS ${sqlText(`${note} (${tag})`)}`);
        for (const column of plan.columns.keys()) {
          const label = labels.get(column);
          await tx.unsafe(
            `COMMENT ON COLUMN ${this.#table(table)}.${quoteIdent(column)} IS ` +
              (label ? sqlText(label) : "NULL"),
          );
        }
      });
    } catch (error) {
      throw new Error(
        describePgError(error, `create view "${labeledName(table)}" in`, this.#target),
        {
          cause: error,
        },
      );
    }
    return true;
  }

  /** The qualified name of the table's labelled view. */
  #labeled(table: string): string {
    return `${quoteIdent(this.#target.schema)}.${quoteIdent(labeledName(table))}`;
  }

  /** The table's plan, read when not cached; undefined when the table does not exist. */
  async #loaded(table: string): Promise<TablePlan | undefined> {
    return this.#plans.get(table) ??
      await this.#sql.begin((tx) => this.#load(tx, table)).catch((error) => {
        throw new Error(describePgError(error, `read table "${table}" in`, this.#target), {
          cause: error,
        });
      });
  }

  async reject(table: string, records: readonly RejectedRecord[], at: string): Promise<void> {
    if (records.length === 0) return;
    const sql = this.#rejectedSql();
    try {
      await this.#sql.begin(async (tx) => {
        await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext($1))", [REJECTED_TABLE]);
        await tx.unsafe(sql.create);
        for (const record of records) {
          await tx.unsafe(sql.upsert, rejectedParams(table, storable(record), at));
        }
      });
    } catch (error) {
      throw new Error(
        describePgError(error, `keep rejected records of "${table}" in`, this.#target),
        { cause: error },
      );
    }
  }

  async unreject(table: string, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    let removed = 0;
    for (const key of keys) {
      const rows = await this.#query(
        REJECTED_TABLE,
        "update",
        this.#rejectedSql().remove + " RETURNING 1",
        [table, key],
      );
      removed += rows?.length ?? 0;
    }
    return removed;
  }

  async rejected(): Promise<RejectedEntry[]> {
    const rows = await this.#query(REJECTED_TABLE, "read", this.#rejectedSql().list);
    return (rows ?? []).map((row) => rejectedEntry(row));
  }

  #rejectedSql(): RejectedSql {
    return rejectedSql("postgres", this.#table(REJECTED_TABLE));
  }

  async close(): Promise<void> {
    this.#plans.clear();
    await this.#sql.end({ timeout: 5 });
  }

  /** The comparison query of `_changes.ts` that goes with this upsert (cached with it). */
  #compareSql(upsert: string, table: string, columns: [string, ColumnType][]): string {
    let compare = this.#compares.get(upsert);
    if (compare === undefined) {
      compare = pgCompareSql(this.#table(table), columns, PG_TYPES, quoteIdent);
      if (this.#compares.size > 100) this.#compares.clear();
      this.#compares.set(upsert, compare);
    }
    return compare;
  }

  /** The schema-qualified, quoted table name. */
  #table(table: string): string {
    return `${quoteIdent(this.#target.schema)}.${quoteIdent(table)}`;
  }

  /** Run one statement on a table; null when the table does not exist yet. */
  async #query(
    table: string,
    action: string,
    text: string,
    params: string[] = [],
  ): Promise<postgres.RowList<postgres.Row[]> | null> {
    try {
      return await this.#sql.unsafe(text, params);
    } catch (error) {
      if ((error as { code?: unknown }).code === "42P01") return null; // undefined_table
      throw new Error(describePgError(error, `${action} table "${table}" in`, this.#target), {
        cause: error,
      });
    }
  }

  /** Read the table's columns; undefined when it does not exist. */
  async #load(tx: TxSql, table: string): Promise<TablePlan | undefined> {
    const rows = await tx.unsafe(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type ` +
        `FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 ` +
        `AND NOT a.attisdropped ORDER BY a.attnum`,
      [this.#table(table)],
    );
    if (rows.length === 0) return undefined;
    const columns = new Map<string, ColumnType>();
    const floats: string[] = [];
    for (const { name, type } of rows) {
      if (RESERVED.has(String(name).toLowerCase())) continue;
      columns.set(name, columnTypeOf(type));
      if (type === "double precision") floats.push(name);
    }
    const { mapped, entries } = await this.#entries(tx, table);
    const map = new ColumnMap(table, entries, columns.keys());
    return { columns, map, mapped, upsert: null, floats };
  }

  /**
   * Store the table's `double precision` columns (written by an older version) as `numeric`:
   * the view goes first (it is created again by the next write).
   */
  async #exact(table: string, plan: TablePlan): Promise<void> {
    const alter = (plan.floats ?? []).map((c) => `ALTER COLUMN ${quoteIdent(c)} TYPE numeric`);
    await this.#sql.begin(async (tx) => {
      await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext($1))", [this.#table(table)]);
      await tx.unsafe(dropViewSql(table, this.#target.schema));
      // The labelled view pins the column's type too: the field labels' run recreates it.
      await tx.unsafe(`DROP VIEW IF EXISTS ${this.#labeled(table)}`);
      await tx.unsafe(`ALTER TABLE ${this.#table(table)} ${alter.join(", ")}`);
    }).catch((error) => {
      throw new Error(
        describePgError(error, `store exact numbers in "${table}" of`, this.#target),
        {
          cause: error,
        },
      );
    });
    plan.floats = [];
  }

  /** The table's rows of `_act_columns`, and whether that table exists. */
  async #entries(tx: TxSql, table: string): Promise<{ mapped: boolean; entries: ColumnEntry[] }> {
    const entries = await pgColumnEntries(tx, this.#target.schema, table);
    return { mapped: entries !== null, entries: entries ?? [] };
  }

  /** Give the page's new source paths their columns and record them in `_act_columns`. */
  async #assign(tx: TxSql, table: string, plan: TablePlan, page: FlatPage): Promise<string[]> {
    if (plan.map.covers(page.types.keys())) return [];
    const { entries, warnings } = plan.map.assign(page.types.keys());
    await recordPgColumns(tx, this.#target.schema, table, entries, !plan.mapped);
    plan.mapped = true;
    return warnings;
  }

  /** The table's plan after creating it, adding missing columns and widening narrow ones. */
  async #evolve(
    tx: TxSql,
    table: string,
    page: FlatPage,
    result: WriteResult,
    warnings: string[],
  ): Promise<TablePlan> {
    let plan = this.#plans.get(table) ?? await this.#load(tx, table);
    if (plan && !needsChange(plan, page)) {
      this.#plans.set(table, plan);
      return plan;
    }
    // Serialise schema changes with other writers, then decide on fresh metadata.
    await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext($1))", [this.#table(table)]);
    plan = await this.#load(tx, table);
    if (!plan) {
      await tx.unsafe(createTableSql(this.#table(table)));
      const { mapped, entries } = await this.#entries(tx, table);
      plan = { columns: new Map(), map: new ColumnMap(table, entries, []), mapped, upsert: null };
    }
    warnings.push(...await this.#assign(tx, table, plan, page));
    const clauses: string[] = [];
    const widened = new Map<string, ColumnType>();
    for (const [key, type] of page.types) {
      const existing = plan.map.get(key)!;
      if (!plan.columns.has(existing)) {
        clauses.push(`ADD COLUMN ${quoteIdent(existing)} ${PG_TYPES[type]}`);
        plan.columns.set(existing, type);
        result.newColumns.push(existing);
        continue;
      }
      const current = plan.columns.get(existing)!;
      const wider = widenType(current, type);
      if (wider === current) continue;
      if (!widened.has(existing)) widened.set(existing, current);
      plan.columns.set(existing, wider);
    }
    for (const [name, from] of widened) {
      const to = plan.columns.get(name)!;
      // A column added by this same statement cannot also be altered in it.
      const added = clauses.indexOf(`ADD COLUMN ${quoteIdent(name)} ${PG_TYPES[from]}`);
      if (added >= 0) {
        clauses[added] = `ADD COLUMN ${quoteIdent(name)} ${PG_TYPES[to]}`;
        continue;
      }
      clauses.push(widenClause(name, from, to));
      result.widenedColumns.push(name);
    }
    if (result.widenedColumns.length > 0) {
      await tx.unsafe(dropViewSql(table, this.#target.schema)); // recreated after the rows
      // The labelled view pins the column's type too: the field labels' run recreates it.
      await tx.unsafe(`DROP VIEW IF EXISTS ${this.#labeled(table)}`);
    }
    if (clauses.length > 0) {
      await tx.unsafe(`ALTER TABLE ${this.#table(table)} ${clauses.join(", ")}`);
    }
    plan.upsert = null;
    this.#plans.set(table, plan);
    return plan;
  }
}

/** Settle like `promise`, or reject with a `CONNECT_TIMEOUT` error after `ms`. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${ms} ms`);
      reject(Object.assign(error, { code: "CONNECT_TIMEOUT" }));
    }, ms);
  });
  promise.catch(() => {}); // a late rejection (after the deadline) is not unhandled
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the page has a column the table lacks or one whose type the table's cannot hold. */
function needsChange(plan: TablePlan, page: FlatPage): boolean {
  for (const [key, type] of page.types) {
    const existing = plan.map.get(key);
    if (existing === undefined) return true;
    const current = plan.columns.get(existing);
    if (current === undefined) return true;
    if (widenType(current, type) !== current) return true;
  }
  return false;
}

/**
 * The page's rows as JSON array texts of at most `chunkRows` objects each, later duplicates
 * of an id replacing earlier ones, values converted to what each column holds.
 */
function encodeRows(
  page: FlatPage,
  plan: TablePlan,
  columns: [string, ColumnType][],
  chunkRows: number,
): string[] {
  const latest = new Map<string, number>();
  page.rows.forEach((row, i) => latest.set(String(row.id), i));
  const slotOf = new Map(columns.map(([name], i) => [name, i]));
  const keySlots = new Map<string, number>(); // page key → column position (-1: none)
  const values: FlatValue[] = new Array(columns.length);
  const chunks: string[] = [];
  let parts: string[] = [];
  for (const [id, index] of latest) {
    const row = page.rows[index];
    values.fill(null);
    for (const key in row) {
      let slot = keySlots.get(key);
      if (slot === undefined) {
        const name = key === "id" ? undefined : plan.map.get(key);
        slot = name === undefined ? -1 : slotOf.get(name) ?? -1;
        keySlots.set(key, slot);
      }
      if (slot >= 0 && row[key] !== null && row[key] !== undefined) values[slot] = row[key];
    }
    let text = `{"k":${JSON.stringify(stripNul(id))}`;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === null) continue;
      const pg = toPg(value, columns[i][1]);
      text += `,"c${i}":${typeof pg === "bigint" ? String(pg) : JSON.stringify(pg)}`;
    }
    parts.push(text + "}");
    if (parts.length >= chunkRows) {
      chunks.push(`[${parts.join(",")}]`);
      parts = [];
    }
  }
  if (parts.length > 0) chunks.push(`[${parts.join(",")}]`);
  return chunks;
}

/** A value as the column of this type takes it from JSON. */
function toPg(
  value: string | number | bigint | boolean,
  type: ColumnType,
): string | number | bigint | boolean {
  switch (type) {
    case "text":
      if (typeof value === "boolean") return value ? "1" : "0";
      return typeof value === "string" ? stripNul(value) : String(value);
    case "json":
      return typeof value === "string" ? stripNulEscapes(value) : JSON.stringify(value);
    case "real":
      return typeof value === "bigint" ? Number(value) : value;
    default:
      return value;
  }
}

/** PostgreSQL text cannot hold NUL characters: drop them. */
function stripNul(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "") : text;
}

/** jsonb cannot hold `\u0000` either: drop the escape (not an escaped backslash before it). */
function stripNulEscapes(json: string): string {
  return json.includes("\\u0000")
    ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, "$1")
    : stripNul(json);
}
