/**
 * Private: the PostgreSQL sink's reporting schema: link tables written with their parent rows,
 * indexes on reference and cursor columns, `<table>_live` views (see `_views.ts`). Runs inside
 * the sink's write transaction.
 *
 * @module
 */
import type postgres from "postgres";
import { type ColumnEntry, ColumnMap } from "./_columns.ts";
import { columnEntriesJson, columnsSql, quoteIdent } from "./_sql.ts";
import {
  createIndexSql,
  createLinkTableSql,
  createLinkViewSql,
  createViewSql,
  dropViewSql,
  grantSelectSql,
  linkKeyColumns,
  linkText,
  POSITION_COLUMN,
  type ShapedTable,
  viewName,
} from "./_views.ts";
import {
  type ColumnType,
  type FlatPage,
  type FlatValue,
  type LinkRows,
  type LinkShape,
  type TableShape,
  widenType,
} from "./sink.ts";
import { columnTypeOf, PG_TYPES, widenClause } from "./_pg_sql.ts";

type TxSql = postgres.TransactionSql;

/** A link table as known in this session. */
interface LinkPlan {
  /** Its data columns with their types (not the id columns, position, `_act_synced`). */
  columns: Map<string, ColumnType>;
  map: ColumnMap;
  /** Written by a version that kept no position and stored every value as text. */
  untyped: boolean;
}

/** The reporting schema of one PostgreSQL schema. */
export class PgShapes {
  #schema: string;
  /** Tables whose indexes and views are known to be current in this session. */
  #current = new Set<string>();
  #links = new Map<string, LinkPlan>();

  /** The role granted SELECT on every table and view built here (`report_role`). */
  #reportRole: string | undefined;

  constructor(schema: string, reportRole?: string) {
    this.#schema = schema;
    this.#reportRole = reportRole;
  }

  /** Forget what is known (after a rolled-back transaction). */
  forget(): void {
    this.#current.clear();
    this.#links.clear();
  }

  /**
   * After a page's rows are written (same transaction): replace the links of the page's
   * parents, then create indexes and views unless current (`changed`: the table's columns
   * changed in this write).
   */
  async apply(
    tx: TxSql,
    table: string,
    plan: ShapedTable,
    page: FlatPage,
    changed: boolean,
    at: string,
  ): Promise<void> {
    const shape = page.shape;
    if (!shape) return;
    let linksChanged = false;
    for (const rows of page.links ?? []) {
      if (await this.#writeLinks(tx, page, rows, at)) linksChanged = true;
    }
    if (!changed && !linksChanged && this.#current.has(table)) return;
    const schema = this.#schema;
    await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext($1))", [this.#name(table)]);
    await this.#index(tx, table, plan, shape);
    await tx.unsafe(dropViewSql(table, schema));
    await tx.unsafe(createViewSql("postgres", table, plan.columns, schema));
    const built = [table, viewName(table)];
    for (const link of shape.links) {
      const linkPlan = await this.#linkPlan(tx, link);
      await tx.unsafe(dropViewSql(link.table, schema));
      await tx.unsafe(createLinkViewSql("postgres", table, link, linkPlan.columns, schema));
      built.push(link.table, viewName(link.table));
    }
    // Default privileges cover what is created later; the grant again makes sure of it.
    if (this.#reportRole !== undefined) {
      await tx.unsafe(grantSelectSql(schema, built, this.#reportRole));
    }
    this.#current.add(table);
  }

  /** The schema-qualified, quoted name of a table. */
  #name(table: string): string {
    return `${quoteIdent(this.#schema)}.${quoteIdent(table)}`;
  }

  async #index(tx: TxSql, table: string, plan: ShapedTable, shape: TableShape): Promise<void> {
    const paths = shape.cursor ? [...shape.refs, shape.cursor] : shape.refs;
    for (const path of paths) {
      const column = plan.map.get(path);
      if (column !== undefined && plan.columns.has(column)) {
        await tx.unsafe(createIndexSql(table, column, this.#schema));
      }
    }
  }

  /** The link table, created (with its index) when missing. */
  async #linkPlan(tx: TxSql, link: LinkShape): Promise<LinkPlan> {
    let plan = this.#links.get(link.table);
    if (plan) return plan;
    await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext($1))", [this.#name(link.table)]);
    await tx.unsafe(createLinkTableSql("postgres", link, this.#schema));
    await tx.unsafe(createIndexSql(link.table, link.relatedColumn, this.#schema));
    const rows = await tx.unsafe(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type ` +
        `FROM pg_attribute a WHERE a.attrelid = to_regclass($1) ` +
        `AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [this.#name(link.table)],
    );
    const untyped = !rows.some((r) => r.name === POSITION_COLUMN);
    if (untyped) {
      await tx.unsafe(
        `ALTER TABLE ${this.#name(link.table)} ADD COLUMN IF NOT EXISTS ` +
          `${quoteIdent(POSITION_COLUMN)} integer`,
      );
    }
    const own = new Set([...linkKeyColumns(link), "_act_synced"]);
    const columns = new Map<string, ColumnType>();
    for (const r of rows) {
      if (!own.has(String(r.name))) columns.set(String(r.name), columnTypeOf(String(r.type)));
    }
    const entries = await pgColumnEntries(tx, this.#schema, link.table) ?? [];
    const map = new ColumnMap(link.table, entries, columns.keys(), linkKeyColumns(link));
    plan = { columns, map, untyped };
    this.#links.set(link.table, plan);
    return plan;
  }

  /**
   * Give the link table's columns the types of this page's values: a table that stored every
   * value as text gets its columns typed (`'0'` → false), and a column whose values no longer
   * fit its type is widened.
   */
  async #typeLinks(tx: TxSql, link: LinkShape, plan: LinkPlan, rows: LinkRows): Promise<void> {
    const clauses: string[] = [];
    for (const [path, type] of rows.types) {
      const column = plan.map.get(path);
      const now = column === undefined ? undefined : plan.columns.get(column);
      if (column === undefined || now === undefined) continue;
      const want = linkType(type);
      if (plan.untyped && now === "text" && want !== "text") {
        clauses.push(fromText(column, want));
        plan.columns.set(column, want);
      } else if (widenType(now, want) !== now) {
        const wider = widenType(now, want);
        clauses.push(widenClause(column, now, wider));
        plan.columns.set(column, wider);
      }
    }
    plan.untyped = false;
    if (clauses.length === 0) return;
    await tx.unsafe(dropViewSql(link.table, this.#schema));
    await tx.unsafe(`ALTER TABLE ${this.#name(link.table)} ${clauses.join(", ")}`);
  }

  /** Replace the links of the page's parents; returns whether columns were added. */
  async #writeLinks(tx: TxSql, page: FlatPage, rows: LinkRows, at: string): Promise<boolean> {
    const { link } = rows;
    const name = this.#name(link.table);
    let plan = await this.#linkPlan(tx, link);
    let added = false;
    if (!plan.map.covers(rows.types.keys())) {
      this.#links.delete(link.table); // decide on fresh metadata, under the lock
      plan = await this.#linkPlan(tx, link);
      const { entries } = plan.map.assign(rows.types.keys());
      if (entries.length > 0) {
        await recordPgColumns(tx, this.#schema, link.table, entries, true);
        const adds = entries.map(({ path, column }) => {
          const type = linkType(rows.types.get(path) ?? "text");
          plan.columns.set(column, type);
          return `ADD COLUMN IF NOT EXISTS ${quoteIdent(column)} ${PG_TYPES[type]}`;
        });
        await tx.unsafe(`ALTER TABLE ${name} ${adds.join(", ")}`);
        added = true;
      }
    }
    await this.#typeLinks(tx, link, plan, rows);
    await tx.unsafe(
      `DELETE FROM ${name} WHERE ${quoteIdent(link.parentColumn)} IN ` +
        `(SELECT json_array_elements_text($1::text::json))`,
      [JSON.stringify(page.rows.map((row) => stripNul(row.id)))],
    );
    if (rows.rows.length === 0) return added;
    const paths = [...rows.types.keys()];
    const columns = paths.map((path) => plan.map.get(path)!);
    const types = columns.map((column) => plan.columns.get(column) ?? "text");
    const records = rows.rows.map(({ parent, related, position }) => {
      const record: Record<string, string | number | boolean | null> = {
        p: stripNul(parent),
        r: stripNul(related.id),
        n: position,
      };
      paths.forEach((path, i) => {
        const value = related[path];
        record[`c${i}`] = value === undefined ? null : linkJson(value, types[i]);
      });
      return record;
    });
    const names = [...linkKeyColumns(link), ...columns, "_act_synced"].map(quoteIdent);
    const select = ["x.p", "x.r", "x.n", ...columns.map((_, i) => `x.c${i}`), "$2::timestamptz"];
    const record = [
      "p text",
      "r text",
      "n integer",
      ...types.map((type, i) => `c${i} ${PG_TYPES[type]}`),
    ];
    // The first item with a related id keeps its pair (and its place).
    await tx.unsafe(
      `INSERT INTO ${name} (${names.join(", ")}) SELECT ${select.join(", ")} ` +
        `FROM json_to_recordset($1::text::json) AS x(${record.join(", ")}) ` +
        `ON CONFLICT (${names[0]}, ${names[1]}) DO NOTHING`,
      [JSON.stringify(records), at],
    );
    return added;
  }
}

/** The type a link table column gets for values of this type (JSON kept as its text). */
function linkType(type: ColumnType): ColumnType {
  return type === "json" ? "text" : type;
}

/** `ALTER COLUMN … TYPE` of a column that held every value as text (booleans as 0/1). */
function fromText(column: string, to: ColumnType): string {
  const c = quoteIdent(column);
  const using = to === "boolean"
    ? `CASE ${c} WHEN '1' THEN true WHEN '0' THEN false END`
    : `NULLIF(${c}, '')::${PG_TYPES[to]}`;
  return `ALTER COLUMN ${c} TYPE ${PG_TYPES[to]} USING ${using}`;
}

/** A value as JSON for a link column of this type (text columns get the value's text). */
function linkJson(value: FlatValue, type: ColumnType): string | number | boolean | null {
  if (value === null) return null;
  if (type === "text") return linkText(value);
  if (typeof value === "bigint") return value.toString();
  return typeof value === "string" ? stripNul(value) : value;
}

/** PostgreSQL text cannot hold NUL characters: drop them. */
function stripNul(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "") : text;
}

/** The table's rows of `_act_columns` in `schema`; null when `_act_columns` does not exist. */
export async function pgColumnEntries(
  tx: TxSql,
  schema: string,
  table: string,
): Promise<ColumnEntry[] | null> {
  const sql = columnsSql("postgres", schema);
  const [{ found }] = await tx.unsafe(`SELECT to_regclass($1) IS NOT NULL AS found`, [sql.table]);
  if (!found) return null;
  const rows = await tx.unsafe(sql.select, [table]);
  return rows.map((row) => ({ path: row.path, column: row.column }));
}

/**
 * Record mappings in `_act_columns` of `schema`; with `create`, first create it when missing
 * (under a lock, as concurrent writers may).
 */
export async function recordPgColumns(
  tx: TxSql,
  schema: string,
  table: string,
  entries: readonly ColumnEntry[],
  create: boolean,
): Promise<void> {
  const sql = columnsSql("postgres", schema);
  if (create) {
    await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext($1))", [sql.table]);
    await tx.unsafe(sql.create);
  }
  await tx.unsafe(sql.upsert, [table, columnEntriesJson(entries)]);
}
