/**
 * The state file: cursors per table (seed-compatible), the resume point of an unfinished table,
 * and per-table status. Pure transitions plus atomic read/write and the lock beside the file.
 *
 * @module
 */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { LockError } from "./errors.ts";

/** Where an unfinished incremental read of one table stands. */
export interface TableProgress {
  /** Lower bound of the window (inclusive), UTC ISO. */
  window_start: string;
  /** Upper bound of the window (inclusive), UTC ISO: the server's clock when the window opened. */
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

/** A held lock; release() removes the lock file. */
export interface StateLock {
  readonly path: string;
  release(): void;
}

/** What a lock file says about the run that holds it. */
interface LockHolder {
  pid?: number;
  hostname?: string;
  /** When the run took the lock (ISO). */
  started?: string;
  /** Linux: the boot (`/proc/sys/kernel/random/boot_id`) and the process's start time in ticks. */
  boot_id?: string;
  proc_start?: string;
  /** Windows: the image name of the process (`act-sync.exe`), compared with `tasklist`'s. */
  image?: string;
}

/**
 * Take the lock beside the state file (`state.json.lock`). Throws LockError when a live act-sync
 * run holds it. A lock is stale, and taken over, when its process is gone or when its pid now
 * belongs to another process (pid reuse after a crash or a reboot): on Linux the pid's boot and
 * start time (`/proc`) must match the ones recorded, on Windows its image name (`tasklist`).
 * An unreadable lock file is stale too.
 */
export function acquireLock(statePath: string): StateLock {
  const path = `${statePath}.lock`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const me: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    started: new Date().toISOString(),
    ...processIdentity(process.pid),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me), { flag: "wx", mode: 0o600 });
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
    let holder: LockHolder = {};
    try {
      holder = JSON.parse(readFileSync(path, "utf8"));
    } catch { /* unreadable: treat as stale */ }
    if (typeof holder.pid === "number" && holder.hostname === hostname() && isHeld(holder)) {
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

/** Whether the process named by a lock on this host is still the run that took it. */
function isHeld(holder: LockHolder): boolean {
  const pid = holder.pid!;
  if (pid === process.pid) {
    // Our own pid: held by this very process (same start), else left by an earlier one.
    const self = processIdentity(pid);
    return self.proc_start !== undefined && self.proc_start === holder.proc_start &&
      self.boot_id === holder.boot_id;
  }
  if (!isAlive(pid)) return false;
  const now = processIdentity(pid);
  if (now.boot_id !== undefined && holder.boot_id !== undefined) {
    return now.boot_id === holder.boot_id && now.proc_start === holder.proc_start;
  }
  if (now.proc_start !== undefined && holder.started !== undefined) {
    // A lock from an older act-sync (no identity recorded): the pid is another process when it
    // started after the lock was taken.
    const started = processStartMs(now.proc_start);
    const taken = Date.parse(holder.started);
    if (started !== undefined && !Number.isNaN(taken)) return started <= taken + 5_000;
  }
  if (process.platform === "win32" && holder.image !== undefined) {
    const image = windowsImageName(pid);
    if (image !== undefined) return image.toLowerCase() === holder.image.toLowerCase();
  }
  return true; // cannot tell: a live pid holds it
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** Who a process is, beyond its pid: what this platform lets us read without native code. */
function processIdentity(pid: number): Pick<LockHolder, "boot_id" | "proc_start" | "image"> {
  if (process.platform === "win32") {
    return pid === process.pid ? { image: basename(process.execPath) } : {};
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime, clock ticks since boot); field 2 (the name) may hold spaces and ")".
    const proc_start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const boot_id = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return proc_start ? { boot_id, proc_start } : {};
  } catch {
    return {};
  }
}

/** A process's start time in epoch ms from its `/proc` start ticks (assumes 100 ticks a second). */
function processStartMs(ticks: string): number | undefined {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1];
    return btime === undefined ? undefined : Number(btime) * 1000 + Number(ticks) * 10;
  } catch {
    return undefined;
  }
}

/** The image name of a Windows process (`act-sync.exe`), or undefined when it cannot be read. */
function windowsImageName(pid: number): string | undefined {
  try {
    const out = spawnSync("tasklist", ["/FI", `PID eq ${pid}`, "/FO", "CSV", "/NH"], {
      encoding: "utf8",
      timeout: 10_000,
      windowsHide: true,
    });
    const row = out.status === 0 ? /^"([^"]+)","(\d+)"/m.exec(out.stdout ?? "") : null;
    return row && Number(row[2]) === pid ? row[1] : undefined;
  } catch {
    return undefined;
  }
}
