/**
 * Opening the configured destination: {@linkcode openSink} picks the SQLite or the PostgreSQL
 * sink by the destination's scheme.
 *
 * @module
 */
import { existsSync } from "node:fs";
import type { Logger } from "../core/log.ts";
import type { Sink } from "./sink.ts";
import { openSqliteSink, sqlitePath } from "./sqlite.ts";

/** Options for {@linkcode openSink}. */
export interface OpenSinkOptions {
  /** Busy timeout for SQLite, ms. @default {5000} */
  busyTimeoutMs?: number;
  /** Logger (PostgreSQL: schema changes at FINE; its password is registered as a secret). */
  logger?: Logger;
  /**
   * A dry run: a SQLite file that does not exist is not created, an empty database in memory
   * stands in for it (the destination is empty). @default {false}
   */
  dryRun?: boolean;
  /** PostgreSQL: a role granted SELECT on every table and view the sink creates. */
  reportRole?: string;
}

/** Open `sqlite:PATH` (or a bare path) or `postgres://…` as a {@linkcode Sink}. */
export async function openSink(destination: string, options: OpenSinkOptions = {}): Promise<Sink> {
  if (/^postgres(ql)?:\/\//i.test(destination)) {
    const { openPostgresSink } = await import("./postgres.ts");
    return await openPostgresSink(destination, {
      logger: options.logger,
      reportRole: options.reportRole,
    });
  }
  const path = sqlitePath(destination);
  if (options.dryRun && path !== ":memory:" && !existsSync(path)) {
    return await openSqliteSink(":memory:", options);
  }
  return await openSqliteSink(path, options);
}
