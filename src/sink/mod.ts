/**
 * The destination database: the {@linkcode Sink} interface every destination implements, the
 * SQLite and PostgreSQL sinks, and {@linkcode openSink}, which opens the configured one.
 *
 * @module
 */
export { openSink, type OpenSinkOptions } from "./open.ts";
export type { Sink } from "./sink.ts";
export { validFrom } from "./_history.ts";
