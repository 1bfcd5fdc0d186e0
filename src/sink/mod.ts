/**
 * Opening the configured destination.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { Sink } from "./sink.ts";
import { openSqliteSink, sqlitePath } from "./sqlite.ts";

export type { Sink } from "./sink.ts";

/** Options for {@linkcode openSink}. */
export interface OpenSinkOptions {
  /** Busy timeout for SQLite, ms. @default {5000} */
  busyTimeoutMs?: number;
  /** Logger (PostgreSQL: schema changes at FINE; its password is registered as a secret). */
  logger?: Logger;
}

/** Open `sqlite:PATH` (or a bare path) or `postgres://…` as a {@linkcode Sink}. */
export async function openSink(destination: string, options: OpenSinkOptions = {}): Promise<Sink> {
  if (/^postgres(ql)?:\/\//i.test(destination)) {
    const { openPostgresSink } = await import("./postgres.ts");
    return await openPostgresSink(destination, { logger: options.logger });
  }
  return await openSqliteSink(sqlitePath(destination), options);
}
