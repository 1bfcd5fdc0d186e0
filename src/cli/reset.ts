/**
 * `act-sync reset [TABLE...] [--dry-run]`: forget cursors so the next run re-reads those tables
 * (every table when none is named; an unreadable state file is then moved aside).
 *
 * @module
 */
import { existsSync } from "node:fs";
import {
  acquireLock,
  emptyState,
  moveAside,
  readState,
  withReset,
  writeState,
} from "../state/mod.ts";
import { configFromArgs, parseCommand, tableArgs } from "./_flags.ts";
import type { CliDeps } from "./command.ts";

/** Reset the named tables (or all); with `--dry-run`, only say what would be reset. */
export async function resetCommand(args: string[], deps: CliDeps): Promise<boolean> {
  const parsed = parseCommand(args, { "dry-run": { type: "boolean" } }, { positionals: true });
  const tables = tableArgs(parsed.positionals);
  const { config, logger } = await configFromArgs(parsed, deps, { offline: true });
  if (!existsSync(config.state_file)) {
    deps.stdout(
      `Nothing to reset: there is no state file "${config.state_file}" yet ` +
        `(the next run reads every table from the start)\n`,
    );
    return true;
  }
  if (parsed.values["dry-run"]) {
    let cursors: Record<string, string> = {};
    let unreadable = "";
    try {
      cursors = readState(config.state_file).table_cursors;
    } catch (error) {
      if (tables.length > 0) throw error;
      unreadable = `the unreadable state file "${config.state_file}" would be moved aside; `;
    }
    const names = tables.length > 0 ? tables : Object.keys(cursors);
    const lines = names.map((t) => `  ${t}: cursor ${cursors[t] ?? "(none)"} would be forgotten`);
    const reread = tables.length > 0
      ? `${tables.join(", ")} would be re-read from the start`
      : "every table would be re-read";
    deps.stdout(
      `Dry run: nothing changed; ${unreadable}${reread}\n${lines.join("\n")}${
        lines.length ? "\n" : ""
      }`,
    );
    return true;
  }
  const lock = acquireLock(config.state_file);
  try {
    let state;
    try {
      state = readState(config.state_file);
    } catch (error) {
      if (tables.length > 0) throw error;
      const moved = moveAside(config.state_file, new Date());
      logger.warning(`Moved the unreadable state file aside to "${moved}"`);
      state = emptyState();
    }
    writeState(config.state_file, withReset(state, tables));
    deps.stdout(
      `Reset ${tables.length ? tables.join(", ") : "every table"}: ` +
        `the next run re-reads ${tables.length === 1 ? "it" : "them"} from the start\n`,
    );
    return true;
  } finally {
    lock.release();
  }
}
