/**
 * `act-sync reconcile [TABLE...] [--force] [--dry-run]`: mark rows deleted in Act! and fetch rows missing
 * locally (src/jobs/reconcile.ts).
 *
 * @module
 */
import { onStopSignal } from "../core/runtime.ts";
import { configFromArgs, parseCommand, tableArgs } from "./_flags.ts";
import type { CliDeps } from "./mod.ts";

/** Run a reconcile; true when every table reconciled. */
export async function reconcileCommand(args: string[], deps: CliDeps): Promise<boolean> {
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
    const run = await runReconcile(config, {
      tables: tables.length > 0 ? tables : undefined,
      force: parsed.values.force === true,
      dryRun,
    }, { logger, signal: controller.signal, progress: deps.isTty ? deps.stderr : undefined });
    if (dryRun) {
      deps.stdout(
        "Dry run: nothing was changed; 'deleted' and 'fetched' are what a real run would do\n",
      );
    }
    deps.stdout(formatReconcileSummary(run));
    return run.ok;
  } finally {
    stop();
  }
}
