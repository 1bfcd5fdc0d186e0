/**
 * How a write tells new rows from changed ones and from rows written again unchanged (the
 * counts of {@linkcode RowChanges}). Kept apart from the upsert statements on purpose: each sink
 * asks one extra, read-only question per row (SQLite) or per chunk (PostgreSQL) just before its
 * upsert, in the same transaction, and the upsert itself is not changed. The comparison is of the
 * stored values with the values about to be written, column by column (`IS` / `IS DISTINCT FROM`,
 * so NULLs compare equal), plus `_act_deleted`: a row marked deleted and written again counts as
 * updated. No hash column is stored. Cost: see the README ("Counts").
 *
 * @module
 */
import type { ColumnType, RowChanges } from "./sink.ts";

/**
 * SQLite: `SELECT same FROM table WHERE id = ?1`, where `same` is 1 when the row holds exactly
 * the values `?2…?n+1` (the data columns in `names` order, bound as the upsert binds them) and is
 * not marked deleted. No row: the id is new.
 */
export function sqliteCompareSql(
  quotedTable: string,
  names: readonly string[],
  quote: (name: string) => string,
): string {
  const same = names.length === 0
    ? "_act_deleted = 0"
    : `(${names.map(quote).join(", ")}) IS (${names.map((_, i) => `?${i + 2}`).join(", ")}) ` +
      "AND _act_deleted = 0";
  return `SELECT ${same} AS same FROM ${quotedTable} WHERE id = ?1`;
}

/** SQLite: count one row by the answer of {@linkcode sqliteCompareSql} (undefined: no row). */
export function countRow(changes: RowChanges, answer: { same?: unknown } | undefined): void {
  if (answer === undefined) changes.inserted++;
  else if (Number(answer.same) === 1) changes.unchanged++;
  else changes.updated++;
}

/**
 * PostgreSQL: for one chunk as the upsert receives it (`$1`, the JSON array of `upsertSql` in
 * `_pg_sql.ts`, ids unique within it), how many ids the table lacks (`inserted`) and how many
 * rows hold other values or are marked deleted (`updated`).
 */
export function pgCompareSql(
  table: string,
  columns: readonly [string, ColumnType][],
  pgTypes: Record<ColumnType, string>,
  quote: (name: string) => string,
): string {
  const record = [
    "k text",
    ...columns.map(([, type], i) => `c${i} ${type === "json" ? "text" : pgTypes[type]}`),
  ];
  const stored = columns.map(([name]) => `t.${quote(name)}`);
  const incoming = columns.map(([, type], i) => type === "json" ? `x.c${i}::jsonb` : `x.c${i}`);
  const differs = columns.length === 0
    ? 't."_act_deleted"'
    : `(t."_act_deleted" OR ROW(${stored.join(", ")}) IS DISTINCT FROM ROW(${
      incoming.join(", ")
    }))`;
  return `SELECT count(*) FILTER (WHERE t."id" IS NULL)::int AS inserted, ` +
    `count(*) FILTER (WHERE t."id" IS NOT NULL AND ${differs})::int AS updated ` +
    `FROM json_to_recordset($1::text::json) AS x(${record.join(", ")}) ` +
    `LEFT JOIN ${table} AS t ON t."id" = x.k`;
}
