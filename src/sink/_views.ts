/**
 * Private: the SQL of the reporting schema both sinks share: `<table>_live` views, link tables,
 * index names, a report role's grants.
 *
 * A `<table>_live` view has the table's `id`, data columns and `_act_synced`, without rows
 * marked deleted; empty strings and the "no date" sentinel (`9999-12-31…`, Act!'s value for an
 * open opportunity's close date) read as NULL; every column keeps its table's declared type (see
 * {@linkcode createViewSql}). A link table's view keeps only the links of parents that are not
 * marked deleted.
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

/**
 * The view's expression for one column of table alias `t`, named `as` in the view. In SQLite a
 * date column is read through `join`, a self-join by rowid whose column keeps the declared type
 * (see {@linkcode createViewSql}).
 */
function shown(
  dialect: Dialect,
  column: string,
  type: ColumnType,
  as = column,
  join?: string,
): string {
  const c = `t.${quoteIdent(column)}`;
  if (type === "text") {
    return `CASE WHEN ${c} = '' OR substr(${c}, 1, 10) = '9999-12-31' THEN NULL ELSE ${c} END ` +
      `AS ${quoteIdent(as)}`;
  }
  if (type === "datetime") {
    if (join !== undefined) return `${quoteIdent(join)}.${quoteIdent(column)} AS ${quoteIdent(as)}`;
    return `CASE WHEN ${c} >= ${DATE_LIMIT[dialect]} THEN NULL ELSE ${c} END AS ${quoteIdent(as)}`;
  }
  return as === column ? c : `${c} AS ${quoteIdent(as)}`;
}

/** From this UTC value on a date is Act!'s "no date" sentinel, whatever offset it was sent with. */
const DATE_LIMIT: Record<Dialect, string> = {
  sqlite: "'9999-12-30'",
  postgres: "'9999-12-30T00:00:00Z'",
};

/**
 * Whether a text column holds durations (`HH:MM:SS`, e.g. `history.duration`): its name is
 * `duration` or ends in `Duration`.
 */
export function isDuration(column: string, type: ColumnType): boolean {
  return type === "text" && (column.toLowerCase() === "duration" || column.endsWith("Duration"));
}

/** The view column that gives a duration column in minutes. */
export function minutesName(column: string): string {
  return `${column}_minutes`;
}

/**
 * The SQLite table's generated column (virtual: computed on read, never stored) that holds a
 * duration column in minutes, declared REAL so that ODBC drivers read a number.
 */
export function minutesColumn(column: string): string {
  return `_act_minutes_${column}`;
}

/** `ALTER TABLE … ADD COLUMN` of a duration column's generated minutes column (SQLite). */
export function addMinutesColumnSql(table: string, column: string): string {
  const c = quoteIdent(column);
  const hours = `substr(${c}, 1, length(${c}) - 6)`;
  return `ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(minutesColumn(column))} REAL ` +
    `GENERATED ALWAYS AS (CASE WHEN ${c} GLOB '[0-9]*:[0-9][0-9]:[0-9][0-9]' AND ${hours} ` +
    `NOT GLOB '*[^0-9]*' THEN CAST(${hours} AS INTEGER) * 60 + ` +
    `CAST(substr(${c}, -5, 2) AS INTEGER) + CAST(substr(${c}, -2) AS INTEGER) / 60.0 END) VIRTUAL`;
}

/** A duration column in minutes, as numeric (PostgreSQL's view expression). */
function pgMinutes(column: string): string {
  const c = `t.${quoteIdent(column)}`;
  return `CASE WHEN ${c} ~ '^[0-9]+:[0-9]{2}:[0-9]{2}$' THEN ` +
    `split_part(${c}, ':', 1)::numeric * 60 + split_part(${c}, ':', 2)::numeric + ` +
    `round(split_part(${c}, ':', 3)::numeric / 60, 6) END`;
}

/** SQLite joins at most 64 tables: date columns past this many read through CASE (as text). */
const MAX_DATE_JOINS = 60;

/** Whether the row of alias `alias` is not marked deleted. */
export function live(dialect: Dialect, alias: string): string {
  return dialect === "sqlite" ? `${alias}."_act_deleted" = 0` : `NOT ${alias}."_act_deleted"`;
}

/** `DROP VIEW IF EXISTS` of a table's view. */
export function dropViewSql(table: string, schema: string | null = null): string {
  return `DROP VIEW IF EXISTS ${prefix(schema)}${quoteIdent(viewName(table))}`;
}

/**
 * `CREATE VIEW` of a table's `_live` view over these data columns (drop the old one first).
 *
 * Every column keeps the type the table declares, so that ODBC drivers (which type a column by
 * its declared type) read dates as dates and numbers as numbers, as from the table: in SQLite an
 * expression has no declared type, so a date column is read from a self-join by rowid that
 * leaves out the "no date" sentinel rather than through `CASE`. A duration column (see
 * {@linkcode isDuration}) gets a `<column>_minutes` column; in SQLite that reads the table's
 * generated column (see {@linkcode addMinutesColumnSql}), which must exist.
 */
export function createViewSql(
  dialect: Dialect,
  table: string,
  columns: Iterable<[string, ColumnType]>,
  schema: string | null = null,
): string {
  const { select, joins } = typedSelect(dialect, table, columns);
  const all = [`t."id"`, ...select, `t."_act_synced"`].join(", ");
  return `CREATE VIEW ${prefix(schema)}${quoteIdent(viewName(table))} AS SELECT ${all} ` +
    `FROM ${prefix(schema)}${quoteIdent(table)} AS t${joins} WHERE ${live(dialect, "t")}`;
}

/**
 * The view columns of these data columns of `table` (alias `t`), and the self-joins they read
 * dates through (see {@linkcode createViewSql}). `names` renames view columns: a data column by
 * its name, a duration's minutes column by {@linkcode minutesColumn}; the minutes column of a
 * `_live` view is {@linkcode minutesName}, left out when a data column has that name.
 */
export function typedSelect(
  dialect: Dialect,
  table: string,
  columns: Iterable<[string, ColumnType]>,
  names?: ReadonlyMap<string, string>,
): { select: string[]; joins: string } {
  const list = [...columns];
  const taken = new Set(list.map(([name]) => name.toLowerCase()));
  const select: string[] = [];
  const joins: string[] = [];
  for (const [name, type] of list) {
    let join: string | undefined;
    if (dialect === "sqlite" && type === "datetime" && joins.length < MAX_DATE_JOINS) {
      join = `_d${joins.length}`;
      joins.push(
        ` LEFT JOIN ${quoteIdent(table)} AS ${quoteIdent(join)} ON ${
          quoteIdent(join)
        }.rowid = t.rowid AND ` +
          `${quoteIdent(join)}.${quoteIdent(name)} < ${DATE_LIMIT.sqlite}`,
      );
    }
    select.push(shown(dialect, name, type, names?.get(name) ?? name, join));
    if (!isDuration(name, type)) continue;
    const as = names ? names.get(minutesColumn(name)) : minutesName(name);
    if (as === undefined || (!names && taken.has(as.toLowerCase()))) continue;
    const minutes = dialect === "sqlite" ? `t.${quoteIdent(minutesColumn(name))}` : pgMinutes(name);
    select.push(`${minutes} AS ${quoteIdent(as)}`);
  }
  return { select, joins: joins.join("") };
}

/** `CREATE VIEW` of a link table's `_live` view: the links of parents not marked deleted. */
export function createLinkViewSql(
  dialect: Dialect,
  parent: string,
  link: LinkShape,
  columns: Iterable<[string, ColumnType]>,
  schema: string | null = null,
): string {
  // Durations in link tables get no generated minutes column: leave them as they are.
  const typed = [...columns].map(([name, type]): [string, ColumnType] => [
    name,
    isDuration(name, type) ? "json" : type,
  ]);
  const { select, joins } = typedSelect(dialect, link.table, typed);
  const ids = [link.parentColumn, link.relatedColumn, POSITION_COLUMN].map((c) =>
    `t.${quoteIdent(c)}`
  );
  return `CREATE VIEW ${prefix(schema)}${quoteIdent(viewName(link.table))} AS SELECT ` +
    `${[...ids, ...select, `t."_act_synced"`].join(", ")} FROM ${prefix(schema)}` +
    `${quoteIdent(link.table)} AS t${joins} WHERE EXISTS ` +
    `(SELECT 1 FROM ${prefix(schema)}${quoteIdent(parent)} AS p WHERE p."id" = ` +
    `t.${quoteIdent(link.parentColumn)} AND ${live(dialect, "p")})`;
}

/**
 * PostgreSQL: what a report role needs to read the schema, now and later: USAGE on the schema,
 * SELECT on every table and view in it, and the same on those the connecting user creates later
 * (default privileges, so a view dropped and created again keeps the grant).
 */
export function grantSchemaSql(schema: string, role: string): string[] {
  const s = quoteIdent(schema), r = quoteIdent(role);
  return [
    `GRANT USAGE ON SCHEMA ${s} TO ${r}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT ON TABLES TO ${r}`,
  ];
}

/** PostgreSQL: `GRANT SELECT` on these tables or views of a schema to a report role. */
export function grantSelectSql(schema: string, names: readonly string[], role: string): string {
  return `GRANT SELECT ON ${
    names.map((n) => `${quoteIdent(schema)}.${quoteIdent(n)}`).join(", ")
  } ` +
    `TO ${quoteIdent(role)}`;
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

/** The link table column holding the item's place in the source array (0 = first). */
export const POSITION_COLUMN = "position";

/** A link table's own columns, before the item's fields: the pair and the item's position. */
export function linkKeyColumns(link: LinkShape): string[] {
  return [link.parentColumn, link.relatedColumn, POSITION_COLUMN];
}

/**
 * `CREATE TABLE IF NOT EXISTS` of a link table: both id columns text, the pair its key, and the
 * item's place in the source array ({@linkcode POSITION_COLUMN}; Act! treats the first as the
 * primary one).
 */
export function createLinkTableSql(
  dialect: Dialect,
  link: LinkShape,
  schema: string | null = null,
  name: string = link.table,
): string {
  const p = quoteIdent(link.parentColumn), r = quoteIdent(link.relatedColumn);
  const synced = dialect === "sqlite" ? "TEXT" : "timestamptz";
  const text = dialect === "sqlite" ? "TEXT" : "text";
  const integer = dialect === "sqlite" ? "INTEGER" : "integer";
  return `CREATE TABLE IF NOT EXISTS ${prefix(schema)}${
    quoteIdent(name)
  } (${p} ${text} NOT NULL, ` +
    `${r} ${text} NOT NULL, ${quoteIdent(POSITION_COLUMN)} ${integer}, "_act_synced" ${synced}, ` +
    `PRIMARY KEY (${p}, ${r}))`;
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
