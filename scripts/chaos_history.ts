/**
 * The chaos suite's check of history mode (the CLI's default keeps `opportunities_history`):
 * when a trial's runs (killed at random moments) have converged, and again after its reconcile,
 * each history table agrees with its table (a version lost to a kill is never written later: the
 * row is then unchanged). For every id: versions numbered 1, 2, … whose periods follow each
 * other without overlap or gap, the last one current; every row of the table has a current
 * version holding its values (`_act_deleted` included, only `_act_synced` may differ: an
 * unchanged re-read moves it on the row alone); no history for an id the table lacks.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { exactRows } from "./_chaos_poison.ts";

/** The trial's counts this check adds to. */
export interface HistoryCounts {
  lost: number;
  stale: number;
  problems: string[];
}

/** Check every `<table>_history` of the database; adds to the trial's counts. */
export function compareHistory(conn: DatabaseSync, counts: HistoryCounts): void {
  const tables = conn.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_history' ESCAPE '\\'",
  ).all() as { name: string }[];
  for (const { name } of tables) {
    const table = name.slice(0, -"_history".length);
    const exists = conn.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?")
      .get(table);
    if (!exists) continue;
    // The stored columns only: table_info leaves out generated ones (the minutes of a duration,
    // computed on read), which the history table does not copy.
    const columns = (conn.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[])
      .map((c) => `"${c.name.replaceAll('"', '""')}"`);
    const rows = new Map<string, Record<string, unknown>>();
    for (const row of exactRows(conn, `SELECT ${columns.join(", ")} FROM "${table}"`)) {
      rows.set(String(row.id), row as Record<string, unknown>);
    }
    const versions = new Map<string, Record<string, unknown>[]>();
    const all = exactRows(conn, `SELECT * FROM "${name}" ORDER BY id, _act_version`);
    for (const version of all as Record<string, unknown>[]) {
      const id = String(version.id);
      versions.set(id, [...versions.get(id) ?? [], version]);
    }
    const problem = (what: string) => {
      counts.stale++;
      counts.problems.push(`${name} ${what}`);
    };
    for (const [id, list] of versions) {
      const row = rows.get(id);
      if (!row) problem(`${id} has versions but no row in ${table}`);
      list.forEach((v, i) => {
        if (Number(v._act_version) !== i + 1) {
          problem(`${id} version ${v._act_version} out of order`);
        }
        const next = list[i + 1];
        if (next && v._act_valid_to !== next._act_valid_from) {
          problem(`${id} v${v._act_version} ends at ${v._act_valid_to}, not where the next begins`);
        }
        if (next && !(String(next._act_valid_from) > String(v._act_valid_from))) {
          problem(`${id} v${next._act_version} does not start after v${v._act_version}`);
        }
        if (!next && v._act_valid_to !== null) problem(`${id} has no current version`);
      });
      const current = list.at(-1)!;
      for (const [column, value] of Object.entries(row ?? {})) {
        if (column === "_act_synced") continue;
        const got = current[column] ?? null;
        if (got !== value && String(got) !== String(value)) {
          problem(`${id} current version differs from the row in ${column}`);
          break;
        }
      }
    }
    for (const id of rows.keys()) {
      if (!versions.has(id)) {
        counts.lost++;
        counts.problems.push(`${name} ${id} has no version`);
      }
    }
  }
}
