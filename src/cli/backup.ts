/**
 * `act-sync backup FILE`: write a consistent, read-only snapshot of the SQLite destination to
 * FILE, as `publish_to` does after each run (see `src/sink/snapshot.ts`). Runs beside a running
 * service: the snapshot is the last committed state.
 *
 * @module
 */
import { resolve } from "node:path";
import { UsageError } from "../core/errors.ts";
import { sqlitePath, writeSnapshot } from "../sink/mod.ts";
import { configFromArgs, parseCommand } from "./_flags.ts";
import type { CliDeps } from "./command.ts";

/** Write the snapshot; true when written. */
export async function backupCommand(args: string[], deps: CliDeps): Promise<boolean> {
  const parsed = parseCommand(args, {}, { positionals: true });
  if (parsed.positionals.length !== 1) {
    throw new UsageError(
      `backup takes one file name: found ${parsed.positionals.length} arguments`,
    );
  }
  const { config, logger } = await configFromArgs(parsed, deps, { offline: true });
  if (!config.destination.startsWith("sqlite:")) {
    throw new UsageError(
      "backup copies a SQLite destination only: back up PostgreSQL with pg_dump",
    );
  }
  const target = resolve(deps.cwd, parsed.positionals[0]);
  writeSnapshot(sqlitePath(config.destination), target);
  logger.info(`Wrote a read-only snapshot of the database to "${target}"`);
  return true;
}
