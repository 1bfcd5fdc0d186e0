/**
 * Private: the SQL of the reporting schema both sinks share: `<table>_live` views, index names.
 *
 * A `<table>_live` view has the table's `id`, data columns and `_act_synced`, without rows
 * marked deleted; empty strings and the "no date" sentinel (`9999-12-31…`, Act!'s value for an
 * open opportunity's close date) read as NULL. A link table's view keeps only the links of
 * parents that are not marked deleted.
 *
 * @module
 */
import { type ColumnMap, cutToBytes, MAX_COLUMN_BYTES } from "./_columns.ts";
import { type Dialect, quoteIdent } from "./_sql.ts";
import type { ColumnType, FlatPage, LinkShape, TableShape } from "./sink.ts";

export type { Dialect };

/** The view of a table. */
export function viewName(table: string): string {
  return `${table}_live`;
}

/** `"schema".` for PostgreSQL, nothing for SQLite. */
export function prefix(schema: string | null): string {
  return schema === null ? "" : `${quoteIdent(schema)}.`;
}

/** The view's expression for one column of table alias `t`, named `as` in the view. */
export function shown(dialect: Dialect, column: string, type: ColumnType, as = column): string {
  const c = `t.${quoteIdent(column)}`;
  if (type === "text") {
    return `CASE WHEN ${c} = '' OR substr(${c}, 1, 10) = '9999-12-31' THEN NULL ELSE ${c} END ` +
      `AS ${quoteIdent(as)}`;
  }
  if (type === "datetime") {
    // Any offset the sentinel was sent with, in UTC: from 9999-12-30T10:00Z on.
    const limit = dialect === "sqlite" ? "'9999-12-30'" : "'9999-12-30T00:00:00Z'";
    return `CASE WHEN ${c} >= ${limit} THEN NULL ELSE ${c} END AS ${quoteIdent(as)}`;
  }
  return as === column ? c : `${c} AS ${quoteIdent(as)}`;
}

/** Whether the row of alias `alias` is not marked deleted. */
export function live(dialect: Dialect, alias: string): string {
  return dialect === "sqlite" ? `${alias}."_act_deleted" = 0` : `NOT ${alias}."_act_deleted"`;
}

/** `DROP VIEW IF EXISTS` of a table's view. */
export function dropViewSql(table: string, schema: string | null = null): string {
  return `DROP VIEW IF EXISTS ${prefix(schema)}${quoteIdent(viewName(table))}`;
}

/** `CREATE VIEW` of a table's `_live` view over these data columns (drop the old one first). */
export function createViewSql(
  dialect: Dialect,
  table: string,
  columns: Iterable<[string, ColumnType]>,
  schema: string | null = null,
): string {
  const select = [`t."id"`];
  for (const [name, type] of columns) select.push(shown(dialect, name, type));
  select.push(`t."_act_synced"`);
  return `CREATE VIEW ${prefix(schema)}${quoteIdent(viewName(table))} AS SELECT ${
    select.join(", ")
  } ` +
    `FROM ${prefix(schema)}${quoteIdent(table)} AS t WHERE ${live(dialect, "t")}`;
}

/** `CREATE VIEW` of a link table's `_live` view: the links of parents not marked deleted. */
export function createLinkViewSql(
  dialect: Dialect,
  parent: string,
  link: LinkShape,
  columns: Iterable<string>,
  schema: string | null = null,
): string {
  const select = [`t.${quoteIdent(link.parentColumn)}`, `t.${quoteIdent(link.relatedColumn)}`];
  for (const name of columns) select.push(shown(dialect, name, "text"));
  select.push(`t."_act_synced"`);
  return `CREATE VIEW ${prefix(schema)}${quoteIdent(viewName(link.table))} AS SELECT ` +
    `${select.join(", ")} FROM ${prefix(schema)}${quoteIdent(link.table)} AS t WHERE EXISTS ` +
    `(SELECT 1 FROM ${prefix(schema)}${quoteIdent(parent)} AS p WHERE p."id" = ` +
    `t.${quoteIdent(link.parentColumn)} AND ${live(dialect, "p")})`;
}

/** The name of the index on one column: `<table>_<column>_idx`, shortened with a hash if long. */
export function indexName(table: string, column: string): string {
  const name = `${table}_${column}_idx`;
  if (cutToBytes(name, MAX_COLUMN_BYTES) === name) return name;
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  return `${cutToBytes(name, MAX_COLUMN_BYTES - 9)}_${(hash >>> 0).toString(16).padStart(8, "0")}`;
}

/** `CREATE INDEX IF NOT EXISTS` on one column. */
export function createIndexSql(
  table: string,
  column: string,
  schema: string | null = null,
): string {
  // PostgreSQL puts the index in the table's schema and takes no schema on its name.
  return `CREATE INDEX IF NOT EXISTS ${quoteIdent(indexName(table, column))} ON ` +
    `${prefix(schema)}${quoteIdent(table)} (${quoteIdent(column)})`;
}

/** `CREATE TABLE IF NOT EXISTS` of a link table (both id columns text, the pair its key). */
export function createLinkTableSql(
  dialect: Dialect,
  link: LinkShape,
  schema: string | null = null,
): string {
  const p = quoteIdent(link.parentColumn), r = quoteIdent(link.relatedColumn);
  const synced = dialect === "sqlite" ? "TEXT" : "timestamptz";
  const text = dialect === "sqlite" ? "TEXT" : "text";
  return `CREATE TABLE IF NOT EXISTS ${prefix(schema)}${
    quoteIdent(link.table)
  } (${p} ${text} NOT NULL, ` +
    `${r} ${text} NOT NULL, "_act_synced" ${synced}, PRIMARY KEY (${p}, ${r}))`;
}

/** A flattened value as a link table's text column holds it (booleans 0/1, like the tables). */
export function linkText(value: string | number | bigint | boolean | null): string | null {
  if (value === null) return null;
  if (typeof value === "boolean") return value ? "1" : "0";
  return typeof value === "string" ? value.replaceAll("\0", "") : String(value);
}

/** Give the page's reference fields (see `TableShape.refs`) the text type every `id` has. */
export function textRefs(page: FlatPage): void {
  for (const path of page.shape?.refs ?? []) {
    if (page.types.has(path)) page.types.set(path, "text");
  }
}

/** What a sink knows of a table when its shape is applied. */
export interface ShapedTable {
  /** Data columns with their types, in table order. */
  columns: Map<string, ColumnType>;
  /** Source path → column. */
  map: ColumnMap;
}

/**
 * The page types that migrate an existing table's reference columns that are not text yet
 * (a table written by a version that stored `activityTypeId` as an integer).
 */
export function refMigrations(plan: ShapedTable, shape: TableShape): Map<string, ColumnType> {
  const types = new Map<string, ColumnType>();
  for (const path of shape.refs) {
    const column = plan.map.get(path);
    const type = column === undefined ? undefined : plan.columns.get(column);
    if (type !== undefined && type !== "text") types.set(path, "text");
  }
  return types;
}
