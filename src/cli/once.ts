/**
 * `act-sync --once`: one sync of every configured table, then exit (Ctrl+C finishes the page
 * being written and stops). A scheduled task has only its log file: the run's start, its end
 * (result, rows, seconds) and every failure that ends it are logged, not only printed.
 *
 * @module
 */
import { onStopSignal } from "../core/runtime.ts";
import {
  AuthError,
  DestinationError,
  errorMessage,
  LockError,
  refusedAdvice,
} from "../core/errors.ts";
import { formatSummary, runSync, stopNote, type SyncRun } from "../jobs/sync.ts";
import { type CommonArgs, configFromArgs } from "./_flags.ts";
import { type CliDeps, EXIT } from "./command.ts";

/** The flags of the default command (`--once` and service mode) beyond the config-key ones. */
export const RUN_FLAGS = {
  once: { type: "boolean" },
  "full-refresh": { type: "boolean" },
} as const;

/** Run one sync; the exit code (0 every table synced, 1 failed, 4 login refused). */
export async function runOnce(parsed: CommonArgs, deps: CliDeps): Promise<number> {
  const { config, logger, runId } = await configFromArgs(parsed, deps);
  const controller = new AbortController();
  const stop = onStopSignal(() => {
    logger.warning("Stop requested: finishing the page being written");
    controller.abort();
  });
  logger.info(`Run ${runId} started`, { tables: config.tables.length, trigger: "once" });
  try {
    let run: SyncRun;
    try {
      run = await runSync(config, { fullRefresh: parsed.values["full-refresh"] === true }, {
        logger,
        stdout: deps.stdout,
        progress: deps.isTty ? deps.stderr : undefined,
        signal: controller.signal,
      });
    } catch (error) {
      if (error instanceof LockError) {
        logger.severe(
          `Run ${runId} failed: ${errorMessage(error)}; a scheduled task should not start ` +
            `a second copy while one runs (exit code 3)`,
        );
      } else {
        logger.severe(`Run ${runId} failed: ${errorMessage(error)}`);
      }
      throw error;
    }
    deps.stdout(formatSummary(run));
    const refused = run.failure instanceof AuthError;
    const rows = run.tables.reduce((sum, t) => sum + t.rowsWritten, 0);
    const result = run.ok ? "ok" : controller.signal.aborted ? "stopped" : "failed";
    const fields = { result, rows, seconds: Math.round(run.durationMs / 100) / 10 };
    const stopped = stopNote(run);
    if (run.error !== undefined) {
      logger.severe(`Run ${runId} failed: ${run.error}${advice(run, refused)}`, fields);
    } else if (stopped !== null) {
      const failed = run.tables.some((t) => t.status === "failed");
      // A stop the user asked for is news, not a problem: INFO (SEVERE when a table failed).
      (failed ? logger.severe : logger.info).call(logger, `Run ${runId} ${stopped}`, fields);
    } else if (!run.ok) {
      const failed = run.tables.filter((t) => t.status !== "ok");
      logger.severe(
        `Run ${runId} failed: ${failed.length} of ${run.tables.length} tables failed (${
          failed.map((t) => `${t.table}: ${t.error ?? t.status}`).join("; ")
        })${run.failSafe ? `: ${run.failSafe}` : ""}: the other tables synced; ` +
          `the next run retries the failed ones`,
        fields,
      );
    }
    logger.info(`Run ${runId} finished`, fields);
    return refused ? EXIT.auth : run.ok ? EXIT.ok : EXIT.failed;
  } finally {
    stop();
  }
}

/** What to do about a run that could not start, unless its message says it already. */
function advice(run: SyncRun, refused: boolean): string {
  if (refused) {
    return `${refusedAdvice(run.failure)} (exit code 4)`;
  }
  if (run.failure instanceof DestinationError) {
    return ": the next run tries again; check 'destination' (or ACT_DESTINATION): its host, port, " +
      "database, user and password ('act-sync check' does not test the destination)";
  }
  if (/check '|act-sync reset|: check /.test(run.error ?? "")) return "";
  return ": the next run tries again; 'act-sync check' tests the connection and the login";
}
