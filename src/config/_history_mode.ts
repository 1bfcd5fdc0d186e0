/**
 * `history_mode`: the tables that keep every version of their rows (`<table>_history`), in
 * canonical order; an empty list (or `none`) turns history mode off. A table that is not synced
 * keeps no history (nothing is written to it).
 *
 * @module
 */
import { TABLE_NAMES, type TableName } from "../act/tables.ts";
import { closest } from "../core/closest.ts";

/**
 * The tables named by `input` (its list items `names`, or undefined when it is not a list), or
 * the problems; `show` quotes a value for a message.
 */
export function historyTables(
  input: unknown,
  names: unknown[] | undefined,
  show: (value: unknown) => string,
): { value: TableName[] } | { error: string } {
  if (!names) {
    return {
      error: `'history_mode' must be a list of table names: current value is ${show(input)}`,
    };
  }
  // `none` (or `[]` as text, as in an environment variable) turns history mode off.
  if (names.length === 1 && ["none", "[]"].includes(String(names[0]).trim().toLowerCase())) {
    return { value: [] };
  }
  const chosen = new Set<TableName>();
  const errors: string[] = [];
  for (const name of names) {
    const text = typeof name === "string" ? name.trim().toLowerCase() : "";
    if ((TABLE_NAMES as readonly string[]).includes(text)) {
      chosen.add(text as TableName);
    } else {
      const guess = closest(String(name), TABLE_NAMES);
      errors.push(
        `'history_mode' contains an unknown table ${show(name)}: valid tables are ${
          TABLE_NAMES.join(", ")
        }` + (guess ? `; did you mean "${guess}"?` : ""),
      );
    }
  }
  if (errors.length) return { error: errors.join("\n  - ") };
  return { value: TABLE_NAMES.filter((table) => chosen.has(table)) };
}
