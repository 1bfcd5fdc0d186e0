/**
 * `publish_to`: after a successful run, a read-only snapshot of the SQLite destination for
 * report tools on other PCs (see `src/sink/snapshot.ts`). A failed publish is a WARNING in the
 * log and never fails the run.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { sqlitePath, writeSnapshot } from "../sink/mod.ts";

/**
 * Publish the snapshot when `publish_to` is set and the destination is SQLite; returns the
 * problem (also logged as a WARNING), or undefined when it was written or not asked for.
 */
export function publishSnapshot(
  config: Config,
  logger: Logger,
  now: () => number = Date.now,
): string | undefined {
  const target = config.publish_to;
  if (target === undefined || !config.destination.startsWith("sqlite:")) return undefined;
  const started = now();
  try {
    writeSnapshot(sqlitePath(config.destination), target);
    const seconds = ((now() - started) / 1000).toFixed(1);
    logger.info(`Published a read-only snapshot of the database to "${target}" in ${seconds} s`);
    return undefined;
  } catch (error) {
    const problem = errorMessage(error);
    logger.warning(
      `Publishing failed: ${problem}: the sync itself succeeded; ` +
        `the next successful run publishes again`,
    );
    return problem;
  }
}
