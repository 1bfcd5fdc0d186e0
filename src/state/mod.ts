/**
 * The state file: cursors per table (in the format of the Python connector act-sync replaces, so
 * its state file is read as it is), the resume point of an unfinished table, and per-table status.
 * Pure transitions plus atomic read/write; the lock beside the file is in `lock.ts`.
 *
 * @module
 */
export * from "./state.ts";
export { acquireLock, type StateLock } from "./lock.ts";
