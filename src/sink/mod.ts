/**
 * The destination database: the {@linkcode Sink} interface every destination implements, the
 * SQLite and PostgreSQL sinks, {@linkcode openSink}, which opens the configured one, and
 * {@linkcode writeSnapshot}, a read-only copy of a SQLite destination.
 *
 * @module
 */
export { openSink, type OpenSinkOptions } from "./open.ts";
export type { Sink } from "./sink.ts";
export { writeSnapshot } from "./snapshot.ts";
export { sqlitePath } from "./sqlite.ts";
