/**
 * `act-sync scrub`: apply `exclude_fields` and `hash_fields` to the values already stored, in
 * place: the columns of excluded fields set to NULL, those of hashed fields replaced by their
 * HMAC-SHA-256 (text columns; a column of another type is cleared, and the next full sync of the
 * table writes the hashes). Holds the state file's lock, as a run does, so no run writes meanwhile.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { DestinationError, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { openSink } from "../sink/mod.ts";
import { acquireLock } from "../state/mod.ts";
import { hashValue } from "../sync/fields.ts";
import { fieldRulesOf, formatTable } from "./_session.ts";

/** What {@linkcode runScrub} did: one line per column changed. */
export interface ScrubRun {
  ok: boolean;
  columns: { table: string; column: string; action: "cleared" | "hashed"; rows: number }[];
  error?: string;
}

/** Scrub every table with rules; prints a table of the columns changed to `stdout`. */
export async function runScrub(
  config: Config,
  deps: { logger: Logger; stdout: (text: string) => void },
): Promise<ScrubRun> {
  const rules = Object.entries(fieldRulesOf(config));
  const run: ScrubRun = { ok: true, columns: [] };
  if (rules.length === 0) {
    deps.logger.warning(`Nothing to scrub: 'exclude_fields' and 'hash_fields' are empty`);
    return run;
  }
  const lock = acquireLock(config.state_file);
  try {
    let sink;
    try {
      sink = await openSink(config.destination, { logger: deps.logger });
    } catch (error) {
      throw new DestinationError(errorMessage(error), { cause: error });
    }
    try {
      for (const [table, r] of rules) {
        const result = await sink.scrub(
          table,
          { clear: r!.exclude, hash: r!.hash },
          (text) => hashValue(text, r!.key),
        );
        for (const [column, { action, rows }] of Object.entries(result)) {
          run.columns.push({ table, column, action, rows });
          deps.logger.info(`Scrubbed ${table}.${column}: ${rows} rows ${action}`);
        }
      }
    } finally {
      await sink.close();
    }
  } catch (error) {
    run.ok = false;
    run.error = errorMessage(error);
    deps.logger.severe(`Scrub failed: ${run.error}; nothing was changed in the table it was at`);
    return run;
  } finally {
    lock.release();
  }
  deps.stdout(
    run.columns.length === 0
      ? "No stored column matches 'exclude_fields' or 'hash_fields'\n"
      : formatTable(
        ["table", "column", "action", "rows"],
        run.columns.map((c) => [c.table, c.column, c.action, String(c.rows)]),
      ),
  );
  return run;
}
