/**
 * Private: the SQLite sink's reporting schema: link tables written with their parent rows,
 * indexes on reference and cursor columns, `<table>_live` views (see `_views.ts`). Runs inside
 * the sink's write transaction.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { type ColumnEntry, ColumnMap, COLUMNS_TABLE } from "./_columns.ts";
import { columnsSql, quoteIdent } from "./_sql.ts";
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

/** The reporting schema of one SQLite database. */
export class SqliteShapes {
  #db: DatabaseSync;
  /** Tables whose indexes and views are known to be current in this session. */
  #current = new Set<string>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Forget what is current (after a rolled-back transaction). */
  forget(): void {
    this.#current.clear();
  }

  /**
   * After a page's rows are written (same transaction): replace the links of the page's
   * parents, then create indexes and views unless current (`changed`: the table's columns
   * changed in this write).
   */
  apply(table: string, plan: ShapedTable, page: FlatPage, changed: boolean, at: string): void {
    const shape = page.shape;
    if (!shape) return;
    let linksChanged = false;
    for (const rows of page.links ?? []) {
      if (this.#writeLinks(page, rows, at)) linksChanged = true;
    }
    if (!changed && !linksChanged && this.#current.has(table)) return;
    this.#index(table, plan, shape);
    this.#db.exec(dropViewSql(table));
    this.#db.exec(createViewSql("sqlite", table, plan.columns));
    for (const link of shape.links) {
      this.#db.exec(createLinkTableSql("sqlite", link));
      this.#db.exec(createIndexSql(link.table, link.relatedColumn));
      this.#db.exec(dropViewSql(link.table));
      this.#db.exec(createLinkViewSql("sqlite", table, link, this.#linkColumns(link)));
    }
    this.#current.add(table);
  }

  #index(table: string, plan: ShapedTable, shape: TableShape): void {
    const paths = shape.cursor ? [...shape.refs, shape.cursor] : shape.refs;
    for (const path of paths) {
      const column = plan.map.get(path);
      if (column !== undefined && plan.columns.has(column)) {
        this.#db.exec(createIndexSql(table, column));
      }
    }
  }

  /** Data columns of a link table (not its id columns or `_act_synced`). */
  #linkColumns(link: LinkShape): string[] {
    const info = this.#db.prepare(`PRAGMA table_info(${quoteIdent(link.table)})`).all() as {
      name: string;
    }[];
    const own = new Set([link.parentColumn, link.relatedColumn, "_act_synced"]);
    return info.map((c) => c.name).filter((name) => !own.has(name));
  }

  /** Replace the links of the page's parents; returns whether columns were added. */
  #writeLinks(page: FlatPage, rows: LinkRows, at: string): boolean {
    const db = this.#db;
    const { link } = rows;
    db.exec(createLinkTableSql("sqlite", link));
    const existing = this.#linkColumns(link);
    const map = new ColumnMap(link.table, columnEntries(this.#db, link.table), existing, [
      link.parentColumn,
      link.relatedColumn,
    ]);
    let added = false;
    if (!map.covers(rows.types.keys())) {
      const { entries } = map.assign(rows.types.keys());
      recordColumns(db, link.table, entries);
      for (const { column } of entries) {
        db.exec(`ALTER TABLE ${quoteIdent(link.table)} ADD COLUMN ${quoteIdent(column)} TEXT`);
        existing.push(column);
        added = true;
      }
    }
    const remove = db.prepare(
      `DELETE FROM ${quoteIdent(link.table)} WHERE ${quoteIdent(link.parentColumn)} = ?`,
    );
    for (const row of page.rows) remove.run(row.id);
    const paths = [...rows.types.keys()];
    const columns = paths.map((path) => map.get(path)!);
    const names = [link.parentColumn, link.relatedColumn, ...columns, "_act_synced"].map(
      quoteIdent,
    );
    const insert = db.prepare(
      `INSERT OR REPLACE INTO ${quoteIdent(link.table)} (${names.join(", ")}) VALUES (${
        names.map(() => "?").join(", ")
      })`,
    );
    const values: (string | null)[] = new Array(names.length);
    for (const { parent, related } of rows.rows) {
      values[0] = parent;
      values[1] = related.id;
      for (let i = 0; i < paths.length; i++) linkTextInto(values, i + 2, related[paths[i]]);
      values[names.length - 1] = at;
      insert.run(...values);
    }
    return added;
  }
}

function linkTextInto(
  values: (string | null)[],
  slot: number,
  value: string | number | bigint | boolean | null | undefined,
): void {
  values[slot] = value === undefined ? null : linkText(value);
}

/** The table's rows of `_act_columns` (none when that table does not exist yet). */
export function columnEntries(db: DatabaseSync, table: string): ColumnEntry[] {
  const exists = db.prepare(
    "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?",
  ).get(COLUMNS_TABLE);
  if (!exists) return [];
  return db.prepare(columnsSql("sqlite").select).all(table) as unknown as ColumnEntry[];
}

/** Record mappings in `_act_columns` (created when missing). */
export function recordColumns(db: DatabaseSync, table: string, entries: readonly ColumnEntry[]) {
  const sql = columnsSql("sqlite");
  db.exec(sql.create);
  const insert = db.prepare(sql.upsert);
  for (const { path, column } of entries) insert.run(table, path, column);
}
