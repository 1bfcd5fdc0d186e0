/**
 * The `reconcile` section of the state file: the last reconcile result per table, written by
 * `act-sync reconcile` and the service's reconcile schedule, read by `/state` and `/metrics`.
 *
 * @module
 */
import type { State } from "./state.ts";

/** The last reconcile result of one table, as kept in the state file under `reconcile`. */
export interface ReconcileRecord {
  at: string;
  /** `refused`: more deletions found than `max_delete_fraction` allows; none marked. */
  status: "ok" | "refused" | "failed" | "stopped";
  remote: number;
  local: number;
  deleted: number;
  fetched: number;
  refused_deletes: number;
  error: string | null;
}

/** The `reconcile` section of a state (empty when there is none). */
export function reconcileRecords(state: State): Record<string, ReconcileRecord> {
  const section = state.reconcile;
  return section && typeof section === "object" && !Array.isArray(section)
    ? section as Record<string, ReconcileRecord>
    : {};
}

/** State with `records` (by table) recorded under `reconcile`; other tables' records stay. */
export function withReconciled(state: State, records: Record<string, ReconcileRecord>): State {
  return { ...state, reconcile: { ...reconcileRecords(state), ...records } };
}
