/**
 * The state file: cursors per table (seed-compatible), the resume point of an unfinished table,
 * and per-table status. Pure transitions plus atomic read/write and the lock beside the file.
 *
 * @module
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { LockError } from "./errors.ts";

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
  rows_last_run?: number;
  duration_seconds?: number;
  rows_total?: number;
}

/** The state file's content. Unknown keys (e.g. from the seed's connector) are kept. */
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

/** The resume point of a table, when the tracking entry is one of ours (the seed's is ignored). */
export function progressOf(state: State, table: string): TableProgress | null {
  const entry = state.table_batch_tracking[table] as Partial<TableProgress> | undefined;
  if (
    entry && typeof entry === "object" && typeof entry.window_start === "string" &&
    typeof entry.window_end === "string" && typeof entry.position === "string" &&
    !Number.isNaN(Date.parse(entry.position)) && !Number.isNaN(Date.parse(entry.window_end))
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
  const ms = typeof value === "string" ? Date.parse(value) : NaN;
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
    if (typeof value !== "string" || Number.isNaN(Date.parse(value))) {
      throw new SyntaxError(
        `State file "${path}" is corrupt (cursor of "${table}" is not a date: ${
          JSON.stringify(value)
        }): ${recover}`,
      );
    }
  }
  return result;
}

/** Read the state file; a missing file is an empty state, a corrupt one throws (file untouched). */
export function readState(path: string): State {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return emptyState();
    throw new Error(`Cannot read state file "${path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseState(text, path);
}

/** Write the state file atomically: temp file in the same folder, flush, rename. */
export function writeState(path: string, state: State): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temp, "w");
  try {
    writeSync(fd, JSON.stringify(state, null, 2) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** Move a state file aside (for `reset` of a corrupt file); returns the new name. */
export function moveAside(path: string, now: Date): string {
  const target = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, "-")}`;
  renameSync(path, target);
  return target;
}

/** A held lock; release() removes the lock file. */
export interface StateLock {
  readonly path: string;
  release(): void;
}

/**
 * Take the lock beside the state file (`state.json.lock`). Throws LockError when a live process
 * holds it; a lock left by a dead process (or an unreadable lock file) is taken over.
 */
export function acquireLock(statePath: string): StateLock {
  const path = `${statePath}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  const me = JSON.stringify({ pid: process.pid, hostname: hostname(), started: new Date() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, me, { flag: "wx" });
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(path);
          } catch { /* already gone */ }
        },
      };
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    let holder: { pid?: number; hostname?: string; started?: string } = {};
    try {
      holder = JSON.parse(readFileSync(path, "utf8"));
    } catch { /* unreadable: treat as stale */ }
    if (typeof holder.pid === "number" && holder.hostname === hostname() && isAlive(holder.pid)) {
      throw new LockError(
        `Another act-sync run (pid ${holder.pid}, started ${holder.started}) holds the lock ` +
          `"${path}": wait for it to finish, or delete the lock file if no act-sync is running`,
      );
    }
    if (typeof holder.pid === "number" && holder.hostname !== hostname() && holder.hostname) {
      throw new LockError(
        `An act-sync run on host "${holder.hostname}" (pid ${holder.pid}) holds the lock "${path}"`,
      );
    }
    try {
      unlinkSync(path); // left by a dead process: take it over
    } catch { /* someone else took it over first */ }
  }
  throw new LockError(`Cannot take the lock "${path}"`);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return false; // a lock with our own pid was left by a dead process
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}
