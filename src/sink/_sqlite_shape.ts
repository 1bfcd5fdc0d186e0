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
  addMinutesColumnSql,
  createIndexSql,
  createLinkTableSql,
  createLinkViewSql,
  createViewSql,
  dropViewSql,
  isDuration,
  linkKeyColumns,
  linkText,
  minutesColumn,
  POSITION_COLUMN,
  type ShapedTable,
} from "./_views.ts";
import type { ColumnType, FlatPage, LinkRows, LinkShape, TableShape } from "./sink.ts";

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
    this.minutes(table, plan);
    this.#db.exec(createViewSql("sqlite", table, plan.columns));
    for (const link of shape.links) {
      // A link table of an older version gets its position column before the view names it.
      const types = page.links?.find((rows) => rows.link.table === link.table)?.types;
      this.#migrateLink(link, this.#linkMap(link), types ?? new Map());
      this.#db.exec(createLinkTableSql("sqlite", link));
      this.#db.exec(createIndexSql(link.table, link.relatedColumn));
      this.#db.exec(dropViewSql(link.table));
      this.#db.exec(createLinkViewSql("sqlite", table, link, this.#linkColumns(link)));
    }
    this.#current.add(table);
  }

  /** Add the generated minutes column of each duration column that has none yet. */
  minutes(table: string, plan: ShapedTable): void {
    const info = this.#db.prepare(`PRAGMA table_xinfo(${quoteIdent(table)})`).all() as {
      name: string;
    }[];
    const have = new Set(info.map((c) => c.name));
    for (const [column, type] of plan.columns) {
      if (isDuration(column, type) && !have.has(minutesColumn(column))) {
        this.#db.exec(addMinutesColumnSql(table, column));
      }
    }
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

  /** Data columns of a link table with their types (not its id columns, position, sync time). */
  #linkColumns(link: LinkShape, table = link.table): Map<string, ColumnType> {
    const info = this.#db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as {
      name: string;
      type: string;
    }[];
    const own = new Set([...linkKeyColumns(link), "_act_synced"]);
    return new Map(
      info.filter((c) => !own.has(c.name)).map((c) => [c.name, typeOfDeclared(c.type)]),
    );
  }

  /** The column mapping of a link table (its id and position columns reserved). */
  #linkMap(link: LinkShape, columns = this.#linkColumns(link)): ColumnMap {
    return new ColumnMap(
      link.table,
      columnEntries(this.#db, link.table),
      columns.keys(),
      linkKeyColumns(link),
    );
  }

  /**
   * A link table written by a version that kept no position and stored every value as text:
   * rebuilt with `position` (NULL until its parent is written again) and its columns typed as
   * this page's values are (SQLite converts `'0'` to 0 in a BOOLEAN column on the copy).
   */
  #migrateLink(link: LinkShape, map: ColumnMap, types: Map<string, ColumnType>): void {
    const db = this.#db;
    const info = db.prepare(`PRAGMA table_info(${quoteIdent(link.table)})`).all() as {
      name: string;
    }[];
    if (info.length === 0 || info.some((c) => c.name === POSITION_COLUMN)) return;
    const typeOf = new Map<string, ColumnType>();
    for (const [path, type] of types) {
      const column = map.get(path);
      if (column !== undefined) typeOf.set(column, type);
    }
    const old = this.#linkColumns(link);
    const temp = `${link.table}__act_sync_rebuild`;
    db.exec(`DROP TABLE IF EXISTS ${quoteIdent(temp)}`);
    db.exec(createLinkTableSql("sqlite", link, null, temp));
    for (const column of old.keys()) {
      const type = DECLARED_LINK[typeOf.get(column) ?? "text"];
      db.exec(`ALTER TABLE ${quoteIdent(temp)} ADD COLUMN ${quoteIdent(column)} ${type}`);
    }
    const names = [link.parentColumn, link.relatedColumn, ...old.keys(), "_act_synced"]
      .map(quoteIdent).join(", ");
    db.exec(
      `INSERT INTO ${quoteIdent(temp)} (${names}) SELECT ${names} FROM ${quoteIdent(link.table)}`,
    );
    db.exec(dropViewSql(link.table));
    db.exec(`DROP TABLE ${quoteIdent(link.table)}`);
    // Other views may name the table: rename without checking them.
    db.exec("PRAGMA legacy_alter_table = ON");
    try {
      db.exec(`ALTER TABLE ${quoteIdent(temp)} RENAME TO ${quoteIdent(link.table)}`);
    } finally {
      db.exec("PRAGMA legacy_alter_table = OFF");
    }
    db.exec(createIndexSql(link.table, link.relatedColumn));
  }

  /** Replace the links of the page's parents; returns whether columns were added. */
  #writeLinks(page: FlatPage, rows: LinkRows, at: string): boolean {
    const db = this.#db;
    const { link } = rows;
    this.#migrateLink(link, this.#linkMap(link), rows.types);
    db.exec(createLinkTableSql("sqlite", link));
    const existing = this.#linkColumns(link);
    const map = this.#linkMap(link, existing);
    let added = false;
    if (!map.covers(rows.types.keys())) {
      const { entries } = map.assign(rows.types.keys());
      recordColumns(db, link.table, entries);
      for (const { path, column } of entries) {
        const type = rows.types.get(path) ?? "text";
        db.exec(
          `ALTER TABLE ${quoteIdent(link.table)} ADD COLUMN ${quoteIdent(column)} ${
            DECLARED_LINK[type]
          }`,
        );
        existing.set(column, type);
        added = true;
      }
    }
    const remove = db.prepare(
      `DELETE FROM ${quoteIdent(link.table)} WHERE ${quoteIdent(link.parentColumn)} = ?`,
    );
    for (const row of page.rows) remove.run(row.id);
    const paths = [...rows.types.keys()];
    const columns = paths.map((path) => map.get(path)!);
    const types = columns.map((column) => existing.get(column) ?? "text");
    const names = [...linkKeyColumns(link), ...columns, "_act_synced"].map(quoteIdent);
    // The first item with a related id keeps its pair (and its place).
    const insert = db.prepare(
      `INSERT OR IGNORE INTO ${quoteIdent(link.table)} (${names.join(", ")}) VALUES (${
        names.map(() => "?").join(", ")
      })`,
    );
    const values: (string | number | bigint | null)[] = new Array(names.length);
    for (const { parent, related, position } of rows.rows) {
      values[0] = parent;
      values[1] = related.id;
      values[2] = position;
      for (let i = 0; i < paths.length; i++) {
        values[i + 3] = linkValue(related[paths[i]], types[i]);
      }
      values[names.length - 1] = at;
      insert.run(...values);
    }
    return added;
  }
}

/** Declared types of link table columns (json as TEXT: a JSON value of an item is its text). */
const DECLARED_LINK: Record<ColumnType, string> = {
  integer: "INTEGER",
  real: "REAL",
  boolean: "BOOLEAN",
  datetime: "DATETIME",
  json: "TEXT",
  text: "TEXT",
};

/** The declared type of a link table column, as a column type. */
function typeOfDeclared(declared: string): ColumnType {
  const upper = declared.toUpperCase();
  const type = Object.entries(DECLARED_LINK).find(([t, d]) => d === upper && t !== "json");
  return (type?.[0] as ColumnType | undefined) ?? "text";
}

/**
 * A value as a link table column of this type holds it: booleans 0/1, numbers as numbers in a
 * numeric column and as their text in a text one.
 */
function linkValue(
  value: string | number | bigint | boolean | null | undefined,
  type: ColumnType,
): string | number | bigint | null {
  if (value === undefined || value === null) return null;
  if (type === "text" || type === "json") return linkText(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return typeof value === "string" ? value.replaceAll("\0", "") : value;
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
