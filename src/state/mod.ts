/**
 * The state file: cursors per table (seed-compatible), the resume point of an unfinished table,
 * and per-table status. Pure transitions plus atomic read/write; the lock beside the file is in `lock.ts`.
 *
 * @module
 */
export * from "./state.ts";
export { acquireLock, type StateLock } from "./lock.ts";
