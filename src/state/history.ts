/**
 * The run history in the state file (`history`): one compact entry per finished sync run of
 * service mode, newest first, at most {@linkcode HISTORY_LIMIT}, so that the status page's charts
 * survive a restart. Pure. A state file without `history` (older versions, `--once`) has an empty
 * history; entries that do not have the expected shape are dropped, never an error: the history
 * is for display only and nothing else reads it.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { acquireLock } from "./lock.ts";
import { readState, type State, writeState } from "./state.ts";
import { utcMs } from "../core/time.ts";

/** How many runs the history keeps (the status page charts the same number). */
export const HISTORY_LIMIT = 50;

/** One finished sync run, as kept in the state file's `history`. */
export interface RunSummary {
  /** The run id (as in the log). */
  id: string;
  /** Why it ran: `start-up`, `schedule` or `request`. */
  reason: string;
  started_at: string;
  duration_seconds: number;
  result: "ok" | "failed" | "stopped";
  /** Rows written over all tables, and of those: new ids, changed rows, rows re-read unchanged. */
  rows_written: number;
  rows_new: number;
  rows_updated: number;
  rows_unchanged: number;
  /** Rows in each destination table after the run (as last counted). */
  rows_total: Record<string, number>;
}

/** The history in `state`, newest first; an absent or malformed one is empty. */
export function historyOf(state: State): RunSummary[] {
  const raw = state.history;
  if (!Array.isArray(raw)) return [];
  return raw.filter(isSummary).slice(0, HISTORY_LIMIT).map((entry) => ({
    ...entry,
    rows_total: Object.fromEntries(
      Object.entries(entry.rows_total).filter(([, n]) => isCount(n)),
    ),
  }));
}

/** `state` with `summary` added at the front of its history, keeping at most `limit` entries. */
export function withRunSummary(
  state: State,
  summary: RunSummary,
  limit: number = HISTORY_LIMIT,
): State {
  const history = [summary, ...historyOf(state).filter((s) => s.id !== summary.id)];
  return { ...state, history: history.slice(0, Math.max(1, limit)) };
}

/**
 * Add `summary` to the history of the state file at `path`, under the state lock: false when
 * there is no state file (nothing is created for a history alone). Throws when the lock is held
 * or the file is unreadable or corrupt (the file is then left as it is).
 */
export function saveRunSummary(path: string, summary: RunSummary): boolean {
  if (!existsSync(path)) return false;
  const lock = acquireLock(path);
  try {
    writeState(path, withRunSummary(readState(path), summary));
    return true;
  } finally {
    lock.release();
  }
}

function isSummary(value: unknown): value is RunSummary {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === "string" && typeof v.reason === "string" &&
    typeof v.started_at === "string" && !Number.isNaN(utcMs(v.started_at)) &&
    typeof v.duration_seconds === "number" && Number.isFinite(v.duration_seconds) &&
    (v.result === "ok" || v.result === "failed" || v.result === "stopped") &&
    isCount(v.rows_written) && isCount(v.rows_new) && isCount(v.rows_updated) &&
    isCount(v.rows_unchanged) && !!v.rows_total && typeof v.rows_total === "object" &&
    !Array.isArray(v.rows_total);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
