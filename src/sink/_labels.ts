/**
 * Private: the SQL of the labelled views both sinks share.
 *
 * `<table>_labeled` has the rows of `<table>_live` (rows marked deleted hidden, empty strings and
 * the "no date" sentinel as NULL, every column of its table's declared type, durations also in
 * minutes) with each data column named by its Act! label. Names are made
 * unique within the view, in the table's column order: a column without a label keeps its column
 * name; a name already taken in the view (`id` and `_act_synced` are taken first), compared
 * ignoring case, gets the first free suffix ` (2)`, ` (3)`, …; names are cut to 63 UTF-8 bytes
 * (PostgreSQL's limit) before the suffix. The view is rebuilt only when its text changes (a label
 * renamed, a column added); the table's columns never change for a label.
 *
 * @module
 */
import { cutToBytes, MAX_COLUMN_BYTES } from "./_columns.ts";
import { type Dialect, quoteIdent } from "./_sql.ts";
import { isDuration, live, minutesColumn, minutesName, prefix, typedSelect } from "./_views.ts";
import type { ColumnType } from "./sink.ts";

/** The labelled view of a table. */
export function labeledName(table: string): string {
  return `${table}_labeled`;
}

/** Column → its name in the labelled view, by the rule in the module doc. */
export function viewColumnNames(
  columns: Iterable<string>,
  labels: ReadonlyMap<string, string>,
): Map<string, string> {
  const taken = new Set(["id", "_act_synced"]);
  const out = new Map<string, string>();
  for (const column of columns) {
    const label = labels.get(column)?.replaceAll("\0", "").trim();
    const base = label ? label : column;
    let name = cutToBytes(base, MAX_COLUMN_BYTES);
    for (let n = 2; taken.has(name.toLowerCase()); n++) {
      const suffix = ` (${n})`;
      name = cutToBytes(base, MAX_COLUMN_BYTES - suffix.length) + suffix;
    }
    taken.add(name.toLowerCase());
    out.set(column, name);
  }
  return out;
}

/**
 * `CREATE VIEW` of a table's labelled view (drop the old one first). Its columns keep their
 * declared types as the `_live` view's do (see {@linkcode typedSelect}); a duration column's
 * minutes come right after it, named by its label (or column) and `_minutes`. In SQLite the
 * table's generated minutes columns must exist.
 */
export function createLabeledViewSql(
  dialect: Dialect,
  table: string,
  columns: Iterable<[string, ColumnType]>,
  labels: ReadonlyMap<string, string>,
  schema: string | null = null,
): string {
  const list = [...columns];
  const order: string[] = [];
  const named = new Map(labels);
  for (const [name, type] of list) {
    order.push(name);
    if (!isDuration(name, type)) continue;
    const minutes = minutesColumn(name);
    order.push(minutes);
    named.set(minutes, minutesName(labels.get(name)?.replaceAll("\0", "").trim() || name));
  }
  const names = viewColumnNames(order, named);
  const { select, joins } = typedSelect(dialect, table, list, names);
  const all = [`t."id"`, ...select, `t."_act_synced"`].join(", ");
  return `CREATE VIEW ${prefix(schema)}${quoteIdent(labeledName(table))} AS SELECT ${all} ` +
    `FROM ${prefix(schema)}${quoteIdent(table)} AS t${joins} WHERE ${live(dialect, "t")}`;
}

/** A short stable hash of a view's text (PostgreSQL keeps it in the view's comment). */
export function viewTag(sql: string): string {
  let hash = 2166136261;
  for (let i = 0; i < sql.length; i++) hash = Math.imul(hash ^ sql.charCodeAt(i), 16777619);
  return `act-sync ${(hash >>> 0).toString(16).padStart(8, "0")}:${sql.length}`;
}

/** A text as an SQL string literal (quotes doubled, NUL dropped). */
export function sqlText(text: string): string {
  return `'${text.replaceAll("\0", "").replaceAll("'", "''")}'`;
}
