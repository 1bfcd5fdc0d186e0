/**
 * Private: SQL both sinks share, written once: identifier quoting, and the statements of
 * `_act_columns` (see `_columns.ts`) for each dialect. The sinks only run them.
 *
 * @module
 */
import { COLUMNS_TABLE } from "./_columns.ts";
import type { ColumnEntry } from "./_columns.ts";

/** The dialect a statement is written for. */
export type Dialect = "sqlite" | "postgres";

/**
 * Quote an SQL identifier as both databases take it: case kept, `"` doubled, NUL dropped (no
 * identifier can hold one, and column names never do: see `plainName`).
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll("\0", "").replaceAll('"', '""')}"`;
}

/** The statements of `_act_columns` in one dialect. */
export interface ColumnsSql {
  /** The quoted (PostgreSQL: schema-qualified) table name. */
  table: string;
  create: string;
  /**
   * Record mappings. SQLite: one entry per run, parameters `table_name, source_path,
   * column_name`; PostgreSQL: all at once, parameters `table_name` and
   * {@linkcode columnEntriesJson}.
   */
  upsert: string;
  /** A table's entries, as `path` and `column`; parameter `table_name`. */
  select: string;
}

/** The statements of `_act_columns` for `dialect`; `schema` qualifies the PostgreSQL name. */
export function columnsSql(dialect: Dialect, schema?: string): ColumnsSql {
  const table = schema ? `${quoteIdent(schema)}.${quoteIdent(COLUMNS_TABLE)}` : COLUMNS_TABLE;
  const text = dialect === "sqlite" ? "TEXT" : "text";
  return {
    table,
    create: `CREATE TABLE IF NOT EXISTS ${table} (table_name ${text} NOT NULL, ` +
      `source_path ${text} NOT NULL, column_name ${text} NOT NULL, ` +
      `PRIMARY KEY (table_name, source_path))`,
    upsert: dialect === "sqlite"
      ? `INSERT OR REPLACE INTO ${table} (table_name, source_path, column_name) VALUES (?, ?, ?)`
      : `INSERT INTO ${table} (table_name, source_path, column_name) ` +
        `SELECT $1, x.p, x.c FROM json_to_recordset($2::text::json) AS x(p text, c text) ` +
        `ON CONFLICT (table_name, source_path) DO UPDATE SET column_name = EXCLUDED.column_name`,
    select: `SELECT source_path AS path, column_name AS "column" FROM ${table} ` +
      `WHERE table_name = ${dialect === "sqlite" ? "?" : "$1"}`,
  };
}

/** Entries as the PostgreSQL upsert's second parameter. */
export function columnEntriesJson(entries: readonly ColumnEntry[]): string {
  return JSON.stringify(entries.map(({ path, column }) => ({ p: path, c: column })));
}
