/**
 * Private: history mode, shared by both sinks. For each table named in `history_mode`, a table
 * `<table>_history` holds every version of every row: all the table's columns plus
 * `_act_valid_from`, `_act_valid_to` (NULL for the current version) and `_act_version` (1, 2, …);
 * a version with `_act_deleted` set records a delete.
 *
 * A version is written exactly when the write counts a row as inserted or updated (the column by
 * column comparison of `_changes.ts`, so `_act_synced` and a newly added column, NULL for every
 * old row, never count), and when a row is marked deleted. The new version is a copy of the
 * table's row after the write, made in the same transaction, so the current version always
 * equals the row. A history table created for a table that already has rows starts with
 * version 1 of each live row, valid from that write's sync time.
 *
 * `_act_valid_from` is the record's cursor field (`edited`) when it has one and it is later than
 * the previous version's start; else the sync time (the delete time for a delete) when that is
 * later; else the previous start plus 1 ms. So periods of one id never overlap and never leave a
 * gap: each version's `_act_valid_to` is the next one's `_act_valid_from`.
 *
 * @module
 */
import type { ColumnMap } from "./_columns.ts";
import { quoteIdent } from "./_sql.ts";
import type { ColumnType, FlatPage, FlatValue } from "./sink.ts";

/** What the history needs of the table's plan. */
export interface HistoryPlan {
  columns: Map<string, ColumnType>;
  map: ColumnMap;
}

/** The suffix of a history table's name. */
export const HISTORY_SUFFIX = "_history";

/** The history table of a table. */
export function historyName(table: string): string {
  return table + HISTORY_SUFFIX;
}

/** The view of stage changes, built on `opportunities_history`. */
export const STAGE_CHANGES_VIEW = "opportunity_stage_changes";

/** The table the stage changes view reads, and the source path of its stage. */
export const STAGE_TABLE = "opportunities";
export const STAGE_PATH = "stage/name";

/**
 * When a new version starts, as a UTC ISO-8601 text with milliseconds (see the module doc):
 * `edited` the record's cursor value (or null), `at` the sync (or delete) time, `previous` the
 * start of the current version in ms (null when there is none).
 */
export function validFrom(
  edited: FlatValue | undefined,
  at: string,
  previous: number | null,
): string {
  const stamp = typeof edited === "string" ? Date.parse(edited) : NaN;
  const synced = Date.parse(at);
  let ms = Number.isNaN(stamp) ? synced : stamp;
  if (previous !== null && !(ms > previous)) ms = synced > previous ? synced : previous + 1;
  return new Date(ms).toISOString();
}

/**
 * The page's rows that the write changed, by id (later rows of an id win), each with its cursor
 * value: what a version needs besides the row itself (`key`: the id as the table stores it).
 */
export function cursorValues(
  page: FlatPage,
  ids: Iterable<string>,
  key: (id: string) => string = (id) => id,
): Map<string, FlatValue> {
  const wanted = new Set(ids);
  const cursor = page.shape?.cursor ?? null;
  const out = new Map<string, FlatValue>();
  for (const row of page.rows) {
    const id = key(row.id);
    if (!wanted.has(id)) continue;
    out.set(id, cursor === null ? null : row[cursor] ?? null);
  }
  return out;
}

/**
 * The view `opportunity_stage_changes`: one row per change of stage, with the opportunity, the
 * previous and the new stage, when it changed, when the previous stage began and how many days
 * it lasted. Deleted versions are left out; a version whose stage equals the one before is not
 * a change. PostgreSQL replaces the view in place (`CREATE OR REPLACE`), so views that reports
 * build on it stay; its columns never change.
 */
export function stageChangesViewSql(
  dialect: "sqlite" | "postgres",
  stageColumn: string,
  schema: string | null = null,
): string {
  const q = (name: string) =>
    schema === null ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
  const stage = quoteIdent(stageColumn);
  const days = dialect === "sqlite"
    ? "julianday(changed_at) - julianday(previous_stage_since)"
    : "extract(epoch FROM changed_at - previous_stage_since) / 86400.0";
  const create = dialect === "postgres" ? "CREATE OR REPLACE VIEW" : "CREATE VIEW";
  return `${create} ${q(STAGE_CHANGES_VIEW)} AS ` +
    `WITH versions AS (SELECT "id", ${stage} AS stage, "_act_valid_from" AS valid_from, ` +
    `"_act_version" AS version, LAG(${stage}) OVER (PARTITION BY "id" ORDER BY "_act_version") ` +
    `AS before, ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "_act_version") AS n ` +
    `FROM ${q(historyName(STAGE_TABLE))} WHERE NOT "_act_deleted"), ` +
    `starts AS (SELECT "id", stage, before, valid_from AS changed_at, ` +
    `LAG(valid_from) OVER (PARTITION BY "id" ORDER BY version) AS previous_stage_since ` +
    `FROM versions WHERE n = 1 OR stage IS DISTINCT FROM before) ` +
    `SELECT "id" AS opportunity_id, before AS previous_stage, stage AS new_stage, changed_at, ` +
    `previous_stage_since, ${days} AS previous_stage_days FROM starts ` +
    `WHERE previous_stage_since IS NOT NULL`;
}

/** Drop the stage changes view. */
export function dropStageChangesSql(schema: string | null = null): string {
  const name = schema === null
    ? quoteIdent(STAGE_CHANGES_VIEW)
    : `${quoteIdent(schema)}.${quoteIdent(STAGE_CHANGES_VIEW)}`;
  return `DROP VIEW IF EXISTS ${name}`;
}

/** The index on (`id`, `_act_valid_from`) of a history table. */
export function historyIndexSql(table: string, schema: string | null = null): string {
  const history = historyName(table);
  const name = quoteIdent(`${history}_id_valid_from`);
  const target = schema === null
    ? quoteIdent(history)
    : `${quoteIdent(schema)}.${quoteIdent(history)}`;
  return `CREATE INDEX IF NOT EXISTS ${name} ON ${target} ("id", "_act_valid_from")`;
}
