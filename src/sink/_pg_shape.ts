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
  linkText,
  type ShapedTable,
} from "./_views.ts";
import type { FlatPage, LinkRows, LinkShape, TableShape } from "./sink.ts";

type TxSql = postgres.TransactionSql;

/** A link table as known in this session. */
interface LinkPlan {
  /** Its data columns (not the id columns or `_act_synced`), in table order. */
  columns: string[];
  map: ColumnMap;
}

/** The reporting schema of one PostgreSQL schema. */
export class PgShapes {
  #schema: string;
  /** Tables whose indexes and views are known to be current in this session. */
  #current = new Set<string>();
  #links = new Map<string, LinkPlan>();

  constructor(schema: string) {
    this.#schema = schema;
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
    for (const link of shape.links) {
      const linkPlan = await this.#linkPlan(tx, link);
      await tx.unsafe(dropViewSql(link.table, schema));
      await tx.unsafe(createLinkViewSql("postgres", table, link, linkPlan.columns, schema));
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
      `SELECT a.attname AS name FROM pg_attribute a WHERE a.attrelid = to_regclass($1) ` +
        `AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [this.#name(link.table)],
    );
    const own = new Set([link.parentColumn, link.relatedColumn, "_act_synced"]);
    const columns = rows.map((r) => String(r.name)).filter((name) => !own.has(name));
    const entries = await pgColumnEntries(tx, this.#schema, link.table) ?? [];
    const map = new ColumnMap(link.table, entries, columns, [
      link.parentColumn,
      link.relatedColumn,
    ]);
    plan = { columns, map };
    this.#links.set(link.table, plan);
    return plan;
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
        const adds = entries.map(({ column }) =>
          `ADD COLUMN IF NOT EXISTS ${quoteIdent(column)} text`
        );
        await tx.unsafe(`ALTER TABLE ${name} ${adds.join(", ")}`);
        for (const { column } of entries) plan.columns.push(column);
        added = true;
      }
    }
    await tx.unsafe(
      `DELETE FROM ${name} WHERE ${quoteIdent(link.parentColumn)} IN ` +
        `(SELECT json_array_elements_text($1::text::json))`,
      [JSON.stringify(page.rows.map((row) => stripNul(row.id)))],
    );
    if (rows.rows.length === 0) return added;
    const paths = [...rows.types.keys()];
    const columns = paths.map((path) => plan.map.get(path)!);
    const records = rows.rows.map(({ parent, related }) => {
      const record: Record<string, string | null> = {
        p: stripNul(parent),
        r: stripNul(related.id),
      };
      paths.forEach((path, i) => {
        const value = related[path];
        record[`c${i}`] = value === undefined ? null : linkText(value);
      });
      return record;
    });
    const names = [link.parentColumn, link.relatedColumn, ...columns, "_act_synced"].map(
      quoteIdent,
    );
    const select = ["x.p", "x.r", ...columns.map((_, i) => `x.c${i}`), "$2::timestamptz"];
    const record = ["p text", "r text", ...columns.map((_, i) => `c${i} text`)];
    const updates = names.slice(2).map((n) => `${n} = EXCLUDED.${n}`);
    await tx.unsafe(
      `INSERT INTO ${name} (${names.join(", ")}) SELECT ${select.join(", ")} ` +
        `FROM json_to_recordset($1::text::json) AS x(${record.join(", ")}) ` +
        `ON CONFLICT (${names[0]}, ${names[1]}) DO UPDATE SET ${updates.join(", ")}`,
      [JSON.stringify(records), at],
    );
    return added;
  }
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
