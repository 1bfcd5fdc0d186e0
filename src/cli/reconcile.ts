/**
 * `act-sync reconcile [TABLE...] [--force] [--dry-run]`: mark rows deleted in Act! and fetch rows missing
 * locally (src/jobs/reconcile.ts). A run that could not start is logged as SEVERE; a refused login
 * exits 4, as `--once` does.
 *
 * @module
 */
import { onStopSignal } from "../core/runtime.ts";
import { AuthError, errorMessage, LockError, refusedAdvice } from "../core/errors.ts";
import { configFromArgs, parseCommand, tableArgs } from "./_flags.ts";
import { type CliDeps, EXIT } from "./command.ts";

/** Run a reconcile; the exit code (0 every table reconciled, 1 failed, 4 login refused). */
export async function reconcileCommand(args: string[], deps: CliDeps): Promise<number> {
  const parsed = parseCommand(args, {
    force: { type: "boolean" },
    "dry-run": { type: "boolean" },
  }, { positionals: true });
  const dryRun = parsed.values["dry-run"] === true;
  const tables = tableArgs(parsed.positionals);
  const { config, logger } = await configFromArgs(parsed, deps);
  const { formatReconcileSummary, runReconcile } = await import("../jobs/reconcile.ts");
  const controller = new AbortController();
  const stop = onStopSignal(() => controller.abort());
  try {
    let run;
    try {
      run = await runReconcile(config, {
        tables: tables.length > 0 ? tables : undefined,
        force: parsed.values.force === true,
        dryRun,
      }, { logger, signal: controller.signal, progress: deps.isTty ? deps.stderr : undefined });
    } catch (error) {
      if (error instanceof LockError) {
        logger.severe(
          `Reconcile failed: ${errorMessage(error)} (exit code 3)`,
        );
      }
      throw error;
    }
    if (dryRun) {
      deps.stdout(
        "Dry run: nothing was changed; 'deleted' and 'fetched' are what a real run would do\n",
      );
    }
    deps.stdout(formatReconcileSummary(run));
    const refused = run.failure instanceof AuthError;
    if (refused) {
      logger.severe(
        `Reconcile failed: ${run.error}${refusedAdvice(run.failure)} (exit code 4)`,
      );
    } else if (run.error !== undefined) {
      logger.severe(`Reconcile failed: ${run.error}`);
    }
    return refused ? EXIT.auth : run.ok ? EXIT.ok : EXIT.failed;
  } finally {
    stop();
  }
}
