/**
 * The state, its pure transitions and the file that holds it: cursors per table (in the format of
 * the Python connector act-sync replaces, so its state file is read as it is), the resume point of
 * an unfinished table, and per-table status, read and written atomically.
 *
 * @module
 */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";

import { randomUUID } from "node:crypto";

import { basename, dirname, join } from "node:path";
import { readRegularFileSync } from "../core/files.ts";
import { utcMs } from "../core/time.ts";

/** Where an unfinished incremental read of one table stands. */
export interface TableProgress {
  /** Lower bound of the window (inclusive), UTC ISO. */
  window_start: string;
  /**
   * The most the cursor may move to when the window completes, UTC ISO: the earlier of the
   * server's clock and the host's when the window opened. (Windows are open-ended; an older
   * version used it as the window's upper bound.)
   */
  window_end: string;
  /** Every row with cursor value below this was written; the read resumes here (inclusive). */
  position: string;
  /** Rows written in this window so far. */
  rows: number;
}

/** The last outcome of one table. */
export interface TableStatus {
  last_success?: string | null;
  last_attempt?: string | null;
  last_error?: { message: string; at: string } | null;
  /** Rows written in the last run, re-read ones included (see the three below). */
  rows_last_run?: number;
  /** Of those: ids new to the destination, rows whose values changed, rows re-read unchanged. */
  rows_new_last_run?: number;
  rows_updated_last_run?: number;
  rows_unchanged_last_run?: number;
  duration_seconds?: number;
  rows_total?: number;
  /** The table's records kept in `_act_rejected` (they could not be stored) after the last run. */
  rejected?: number;
}

/** The state file's content. Unknown keys (e.g. the Python connector's) are kept. */
export interface State {
  table_cursors: Record<string, string>;
  table_batch_tracking: Record<string, unknown>;
  tables?: Record<string, TableStatus>;
  [key: string]: unknown;
}

/** A fresh, empty state. */
export function emptyState(): State {
  return { table_cursors: {}, table_batch_tracking: {} };
}

/** The resume point of a table, when the tracking entry is ours (the Python connector's is not). */
export function progressOf(state: State, table: string): TableProgress | null {
  const entry = state.table_batch_tracking[table] as Partial<TableProgress> | undefined;
  if (
    entry && typeof entry === "object" && typeof entry.window_start === "string" &&
    typeof entry.window_end === "string" && typeof entry.position === "string" &&
    !Number.isNaN(utcMs(entry.position)) && !Number.isNaN(utcMs(entry.window_end))
  ) {
    return {
      window_start: entry.window_start,
      window_end: entry.window_end,
      position: entry.position,
      rows: typeof entry.rows === "number" ? entry.rows : 0,
    };
  }
  return null;
}

/** The cursor of a table in epoch ms, or null when there is none. Throws on an unreadable one. */
export function cursorOf(state: State, table: string): number | null {
  const value = state.table_cursors[table];
  if (value === undefined || value === null || value === "") return null;
  const ms = typeof value === "string" ? utcMs(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new SyntaxError(
      `State file has an unreadable cursor for table "${table}": ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** State with the table's resume point set. */
export function withProgress(state: State, table: string, progress: TableProgress): State {
  return {
    ...state,
    table_batch_tracking: { ...state.table_batch_tracking, [table]: { ...progress } },
  };
}

/** State after a table completed its window: cursor moves to `cursor`, resume point cleared. */
export function withCompleted(
  state: State,
  table: string,
  cursor: string | null,
  status: TableStatus,
): State {
  const cursors = { ...state.table_cursors };
  if (cursor !== null) cursors[table] = cursor;
  const tracking = { ...state.table_batch_tracking };
  delete tracking[table];
  return {
    ...state,
    table_cursors: cursors,
    table_batch_tracking: tracking,
    tables: { ...state.tables, [table]: { ...state.tables?.[table], ...status } },
  };
}

/** State after a table failed: cursor and resume point stay; the error is recorded. */
export function withFailed(state: State, table: string, status: TableStatus): State {
  return {
    ...state,
    tables: { ...state.tables, [table]: { ...state.tables?.[table], ...status } },
  };
}

/** State with the given tables forgotten (all when `tables` is empty). */
export function withReset(state: State, tables: readonly string[]): State {
  if (tables.length === 0) return { ...state, ...emptyState(), tables: {} };
  const cursors = { ...state.table_cursors };
  const tracking = { ...state.table_batch_tracking };
  for (const table of tables) {
    delete cursors[table];
    delete tracking[table];
  }
  return { ...state, table_cursors: cursors, table_batch_tracking: tracking };
}

/** Parse state file text; throws a SyntaxError naming the file and the way out. */
export function parseState(text: string, path: string): State {
  const recover =
    `fix or remove it, or run 'act-sync reset' to move it aside and re-read every table`;
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new SyntaxError(
      `State file "${path}" is corrupt (${(error as Error).message}): ${recover}`,
      { cause: error },
    );
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new SyntaxError(`State file "${path}" is corrupt (not a JSON object): ${recover}`);
  }
  const state = raw as Record<string, unknown>;
  for (const key of ["table_cursors", "table_batch_tracking"]) {
    const value = state[key];
    if (
      value !== undefined && (value === null || typeof value !== "object" || Array.isArray(value))
    ) {
      throw new SyntaxError(
        `State file "${path}" is corrupt ('${key}' is not an object): ${recover}`,
      );
    }
  }
  const result = { ...state } as State;
  result.table_cursors = { ...(state.table_cursors as Record<string, string> ?? {}) };
  result.table_batch_tracking = {
    ...(state.table_batch_tracking as Record<string, unknown> ?? {}),
  };
  for (const [table, value] of Object.entries(result.table_cursors)) {
    if (typeof value !== "string" || Number.isNaN(utcMs(value))) {
      throw new SyntaxError(
        `State file "${path}" is corrupt (cursor of "${table}" is not a date: ${
          JSON.stringify(value)
        }): ${recover}`,
      );
    }
  }
  return result;
}

/**
 * Read the state file; a missing file is an empty state, a corrupt one throws (file untouched),
 * and so does one that is not a regular file (a named pipe would block the read).
 */
export function readState(path: string): State {
  let text: string;
  try {
    text = readRegularFileSync(path).toString("utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return emptyState();
    throw new Error(`Cannot read state file "${path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseState(text, path);
}

/**
 * Write the state file atomically: a new temp file (created exclusively, mode 0600) in the same
 * folder, flush, rename. A failed write removes the temp file. A state file that is a symbolic
 * link is written through: the link's target is replaced, the link stays.
 */
export function writeState(path: string, state: State): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const target = writeTarget(path);
  const temp = join(dirname(target), `.${basename(target)}.${randomUUID()}.tmp`);
  const fd = openSync(temp, "wx", 0o600);
  let written = false;
  try {
    try {
      writeSync(fd, JSON.stringify(state, null, 2) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
    written = true;
  } finally {
    if (!written) {
      try {
        unlinkSync(temp);
      } catch { /* never created or already gone */ }
    }
  }
}

/** The file a state write replaces: `path`, or the file a symbolic link at `path` points to. */
function writeTarget(path: string): string {
  if (!lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) return path;
  try {
    return realpathSync(path);
  } catch (error) {
    throw new Error(
      `Cannot write state file "${path}": it is a symbolic link to a missing file ` +
        `"${readlinkSync(path)}": create the target or remove the link`,
      { cause: error },
    );
  }
}

/** Move a state file aside (for `reset` of a corrupt file); returns the new name. */
export function moveAside(path: string, now: Date): string {
  const target = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, "-")}`;
  renameSync(path, target);
  return target;
}
