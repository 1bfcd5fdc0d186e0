/**
 * `act-sync state`: print the state file as a readable table (`--json`: the raw file). A state
 * file that does not exist is an error, not an empty state. Text from the file (table names,
 * cursors, errors) is escaped as the logs do: no control character or bidi override reaches the
 * terminal (in `--json`, as `\uXXXX`, which keeps the JSON equal).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { UsageError } from "../core/errors.ts";
import { escapeControl, escapeControlInJson } from "../core/secrets.ts";
import { progressOf, readState, type State } from "../state/mod.ts";
import { configFromArgs, parseCommand } from "./_flags.ts";
import type { CliDeps } from "./command.ts";

/** Print the state file; throws when there is none. */
export async function stateCommand(args: string[], deps: CliDeps): Promise<boolean> {
  const parsed = parseCommand(args, { json: { type: "boolean" } });
  const { config } = await configFromArgs(parsed, deps, { offline: true });
  if (!existsSync(config.state_file)) {
    const message = `No state file at "${config.state_file}": ` +
      (parsed.values.state !== undefined
        ? "check the path given to --state"
        : "no run has saved one yet, or 'state_file' points elsewhere");
    if (parsed.values.state !== undefined) throw new UsageError(message);
    throw new Error(message);
  }
  const state = readState(config.state_file);
  deps.stdout(
    parsed.values.json
      ? escapeControlInJson(JSON.stringify(state, null, 2)) + "\n"
      : formatState(state, config.tables),
  );
  return true;
}

/**
 * The state as a table: per table its cursor, last success, rows and last error, every cell
 * escaped as the logs do.
 */
export function formatState(state: State, configured: readonly string[]): string {
  const names = [
    ...new Set([
      ...configured,
      ...Object.keys(state.table_cursors),
      ...Object.keys(state.tables ?? {}),
    ]),
  ];
  const rows = names.map((table) => {
    const status = state.tables?.[table];
    const resume = progressOf(state, table);
    return [
      table,
      state.table_cursors[table] ?? "(none: next run reads all)",
      status?.last_success ?? "never",
      status?.rows_total === undefined ? "" : String(status.rows_total),
      resume ? `resumes at ${resume.position}` : "",
      status?.last_error ? status.last_error.message : "",
    ].map(escapeControl);
  });
  const header = ["table", "cursor", "last success", "rows", "in progress", "last error"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") +
    "\n";
}
